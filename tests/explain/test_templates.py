from __future__ import annotations

from importlib import resources

import pytest

from riskstrat.explain import load_templates
from riskstrat.explain._templates import format_ago, format_date


def _packaged() -> str:
    return (
        resources.files("riskstrat.explain").joinpath("reasons.toml").read_text("utf-8")
    )


def _write(tmp_path, text):
    path = tmp_path / "wording.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_wording_loads_and_plurals():
    t = load_templates()
    assert t.render(
        "in_hospital", {"admission_date": "1 Mar 2023", "ago": "", "days": 1}
    ) == ("in hospital now (admitted 1 Mar 2023, 1 day so far)")
    assert "2 days so far" in t.render(
        "in_hospital", {"admission_date": "1 Mar 2023", "ago": "", "days": 2}
    )
    assert t.groups["emergency_admissions"].label == "Emergency admissions and bed days"


def test_unknown_placeholder_is_a_clear_error(tmp_path):
    raw = _packaged().replace("aged {age}", "aged {age_years}")
    with pytest.raises(
        ValueError,
        match=r"wording.toml: \[groups.age\] text uses the unknown placeholder \{age_years\}",
    ):
        load_templates(_write(tmp_path, raw))


def test_unknown_placeholder_in_a_rule_or_item(tmp_path):
    raw = _packaged().replace(
        'rule_nomination = "{detail}"', 'rule_nomination = "{details}"'
    )
    with pytest.raises(ValueError, match=r"\[rules\] rule_nomination .*\{details\}"):
        load_templates(_write(tmp_path, raw))
    raw = _packaged().replace(
        'item = "{indicator} ({code}) in {month}"', 'item = "{indicator} {icd}"'
    )
    with pytest.raises(ValueError, match=r"\[groups.frailty\] item .*\{icd\}"):
        load_templates(_write(tmp_path, raw))


def test_missing_and_unknown_groups(tmp_path):
    raw = _packaged().replace("[groups.sex]", "[groups.gender]")
    with pytest.raises(ValueError, match=r"Missing: \['sex'\]; unknown: \['gender'\]"):
        load_templates(_write(tmp_path, raw))


def test_bad_toml_and_bad_plural(tmp_path):
    with pytest.raises(ValueError, match=r"wording\.toml is not valid TOML"):
        load_templates(_write(tmp_path, "[groups\nx = 1"))
    raw = _packaged().replace("{count:medicine|medicines}", "{count:a|b|c}")
    with pytest.raises(ValueError, match="bad format"):
        load_templates(_write(tmp_path, raw))
    raw = _packaged().replace('text = "aged {age}"', 'text = "aged {age"')
    with pytest.raises(
        ValueError, match=r"\[groups.age\] text is not a valid template"
    ):
        load_templates(_write(tmp_path, raw))


def test_names_tables_must_be_complete(tmp_path):
    raw = _packaged().replace('nursing_home = "nursing home"\n', "")
    with pytest.raises(ValueError, match=r"names must name exactly"):
        load_templates(_write(tmp_path, raw))


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (0, "0 days ago"),
        (1, "1 day ago"),
        (13, "13 days ago"),
        (21, "3 weeks ago"),
        (59, "8 weeks ago"),
        (61, "2 months ago"),
        (800, "2 years ago"),
    ],
)
def test_format_ago(days, text):
    assert format_ago(days) == text


def test_format_date_has_no_locale():
    import datetime as dt

    assert format_date(dt.date(2023, 1, 4)) == "4 Jan 2023"


def test_condition_names_must_be_known_columns(tmp_path):
    raw = _packaged().replace('cci_aids_hiv = "HIV"', 'cci_aids = "HIV"')
    with pytest.raises(
        ValueError, match=r"unknown condition column\(s\) \['cci_aids'\]"
    ):
        load_templates(_write(tmp_path, raw))
