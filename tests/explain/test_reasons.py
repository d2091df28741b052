from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from _support.canonical import tables_from_rows
from explain._tiny import AS_OF, ROWS
from riskstrat.explain import contributions, load_templates, reasons, reasons_schema
from riskstrat.features import build_features


def _by_person(table: pa.Table) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in table.to_pylist():
        out.setdefault(r["patient_id"], []).append(r)
    return out


@pytest.fixture(scope="module")
def result(risk_model, tiny_features, tiny_tables):
    return reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF)


def test_schema_keys_and_order(result):
    assert result.schema == reasons_schema()
    keys = list(
        zip(result["patient_id"].to_pylist(), result["rank"].to_pylist(), strict=True)
    )
    assert keys == sorted(keys)
    assert set(result["as_of"].to_pylist()) == {AS_OF}
    for rows in _by_person(result).values():
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
        assert len(rows) <= 3


def test_reasons_cite_the_persons_own_dates_and_counts(
    risk_model, tiny_features, tiny_tables
):
    r = reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF, top=6)
    p1 = _by_person(r)["p1"]
    texts = [r["text"] for r in p1]
    # Rule 1 comes first: a fall (W19, Jun 2022) and dehydration (E86 as a
    # secondary diagnosis, Mar 2023) in the last 12 months; latest first.
    assert p1[0]["source"] == "rule" and p1[0]["reason_group"] == "frailty"
    assert texts[0] == (
        "case-finding rule 1 (frail-elderly admission): admitted with dehydration "
        "(E86) in Mar 2023 and a fall (W19) in Jun 2022"
    )
    # Three emergency admissions from 10 Jun 2022 (4 bed days), 20 Nov 2022 (1)
    # and 2 Mar 2023 (1); the 2020 one is outside 12 months and the one on AS_OF
    # is not yet history.
    assert (
        "3 emergency admissions in the last 12 months (latest 2 Mar 2023, "
        "6 bed days in all)"
    ) in texts
    # Seven different drugs from 10 Jan 2023 on, eight items (one repeated on
    # 20 Mar); the issue on 1 Dec 2022 is outside 90 days, the one on AS_OF too.
    assert (
        "7 different medicines in the last 90 days (8 items from 5 BNF chapters, "
        "latest 20 Mar 2023)"
    ) in texts
    # Moved from a private home into a nursing home on 11 Mar 2023, 21 days ago.
    assert "moved into a nursing home 3 weeks ago (11 Mar 2023)" in texts


def test_nomination_is_the_first_reason(result):
    p4 = _by_person(result)["p4"]
    assert p4[0]["source"] == "rule" and p4[0]["reason_group"] == "nomination"
    assert (
        p4[0]["text"] == "nominated by the practice on 4 Jan 2023: complex social needs"
    )


def test_in_hospital_now(result):
    p5 = _by_person(result)["p5"]
    assert p5[0]["text"] == "in hospital now (admitted 25 Mar 2023, 7 days so far)"


def test_model_reasons_agree_with_contributions_in_sign_and_order(
    result, risk_model, tiny_features
):
    c = contributions(risk_model, tiny_features).to_pylist()
    groups = {row["patient_id"]: row for row in c}
    for pid, rows in _by_person(result).items():
        model_rows = [r for r in rows if r["source"] == "model"]
        values = [r["contribution"] for r in model_rows]
        assert all(v > 0 for v in values)
        assert values == sorted(values, reverse=True)
        for r in rows:
            assert r["contribution"] == pytest.approx(groups[pid][r["reason_group"]])
        # No risk-raising group stronger than the last one shown was passed over,
        # except for one the record cannot cite (none for p1, who has them all).
        if pid == "p1" and model_rows:
            shown = {r["reason_group"] for r in rows}
            stronger = {
                g
                for g, v in groups[pid].items()
                if g not in ("patient_id", "as_of", "base_value")
                and v > values[-1]
                and g not in ("case_finding_rules",)
            }
            assert stronger <= shown


def test_events_on_or_after_as_of_are_never_cited(result):
    texts = " | ".join(result["text"].to_pylist())
    for word in (
        "Apr 2023",
        "May 2023",
        "Jun 2023",
        "after the run date",
        "on the run date",
    ):
        assert word not in texts
    # p3's record starts on AS_OF: nothing from it appears (only age, sex, area).
    p3 = _by_person(result).get("p3", [])
    assert {r["reason_group"] for r in p3} <= {"age", "sex", "area", "deprivation"}


def test_adding_future_events_changes_nothing(risk_model, tiny_features, tiny_tables):
    future = dict(ROWS)
    later = [
        {
            "patient_id": p,
            "admission_date": AS_OF + dt.timedelta(days=k),
            "discharge_date": None,
            "emergency": True,
            "primary_diagnosis": "W01",
        }
        for p in ("p1", "p2", "p4", "p5")
        for k in (0, 30)
    ]
    future["admissions"] = [*ROWS["admissions"], *later]
    future["nominations"] = [
        *ROWS["nominations"],
        {"patient_id": "p2", "date": AS_OF, "reason": "late"},
    ]
    future["residences"] = [
        *ROWS["residences"],
        {"patient_id": "p4", "start_date": AS_OF, "residence_type": "nursing_home"},
    ]
    tables = tables_from_rows(**future)
    feats = build_features(tables, as_of=AS_OF)
    a = reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF)
    b = reasons(risk_model, feats, tables, as_of=AS_OF)
    assert a.equals(b)


def test_deterministic_and_independent_of_row_order(
    risk_model, tiny_features, tiny_tables
):
    a = reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF)
    shuffled = tiny_features.take(pa.array([4, 2, 0, 3, 1]))
    b = reasons(risk_model, shuffled, tiny_tables, as_of=AS_OF)
    assert a.equals(b)
    assert a.equals(reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF))


def test_only_the_people_asked(risk_model, tiny_features, tiny_tables):
    r = reasons(
        risk_model, tiny_features, tiny_tables, as_of=AS_OF, patient_ids=["p4", "p1"]
    )
    assert set(r["patient_id"].to_pylist()) == {"p1", "p4"}
    full = reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF)
    mask = pc.is_in(full["patient_id"], value_set=pa.array(["p1", "p4"]))
    assert r.equals(full.filter(mask))


def test_top_and_min_contribution(risk_model, tiny_features, tiny_tables):
    one = reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF, top=1)
    assert one["rank"].to_pylist() == [1] * one.num_rows
    assert one.filter(pc.equal(one["patient_id"], "p1"))["source"].to_pylist() == [
        "rule"
    ]
    strict = reasons(
        risk_model, tiny_features, tiny_tables, as_of=AS_OF, min_contribution=0.1
    )
    model_rows = strict.filter(pc.equal(strict["source"], "model"))
    assert all(v > 0.1 for v in model_rows["contribution"].to_pylist())
    with pytest.raises(ValueError, match="`top` parameter"):
        reasons(risk_model, tiny_features, tiny_tables, as_of=AS_OF, top=0)
    with pytest.raises(ValueError, match="`min_contribution` parameter"):
        reasons(
            risk_model, tiny_features, tiny_tables, as_of=AS_OF, min_contribution=-1
        )


def test_rewording_needs_no_code(risk_model, tiny_features, tiny_tables, tmp_path):
    from importlib import resources

    raw = (
        resources.files("riskstrat.explain").joinpath("reasons.toml").read_text("utf-8")
    )
    raw = raw.replace(
        'text = "nominated by the practice on {date}: {reason}"',
        'text = "GP asked for a review on {date} ({reason})"',
    )
    path = tmp_path / "local.toml"
    path.write_text(raw, encoding="utf-8")
    r = reasons(
        risk_model,
        tiny_features,
        tiny_tables,
        as_of=AS_OF,
        templates=load_templates(path),
        patient_ids=["p4"],
    )
    assert (
        r["text"][0].as_py()
        == "GP asked for a review on 4 Jan 2023 (complex social needs)"
    )


def test_absent_prescriptions_are_never_cited(risk_model):
    rows = {k: v for k, v in ROWS.items() if k != "prescriptions"}
    tables = tables_from_rows(absent=("prescriptions",), **rows)
    feats = build_features(tables, as_of=AS_OF)
    assert feats["drugs_90d"].null_count == feats.num_rows  # unknown, not 0
    r = reasons(risk_model, feats, tables, as_of=AS_OF)
    assert "medicines" not in r["reason_group"].to_pylist()


def test_asking_for_someone_not_in_the_features(risk_model, tiny_features, tiny_tables):
    with pytest.raises(ValueError, match="1 of the 2 people"):
        reasons(
            risk_model,
            tiny_features,
            tiny_tables,
            as_of=AS_OF,
            patient_ids=["p1", "p9"],
        )
    with pytest.raises(ValueError, match="no rows as of 2024-04-01"):
        reasons(risk_model, tiny_features, tiny_tables, as_of=dt.date(2024, 4, 1))


def test_conditions_are_named_once_and_the_milder_form_is_dropped():
    import numpy as np

    from riskstrat.explain._facts import Record
    from riskstrat.explain._reasons import _Person
    from riskstrat.features import FeatureSpec

    row = {
        "cci_dementia": True,
        "cci_diabetes_without_complication": True,
        "cci_diabetes_with_complication": True,
        "cci_renal_disease": False,
        "cci_score": 3,
        "elix_diabetes_complicated": True,
        "elix_renal_failure": None,  # unknown is not a condition
        "elix_depression": True,
    }
    person = _Person(
        row,
        Record(),
        np.zeros(1),
        index={},
        as_of=AS_OF,
        spec=FeatureSpec(),
        templates=load_templates(),
        absent=frozenset(),
    )
    assert person.text("conditions") == (
        "3 long-term conditions recorded in hospital in the last 2 years: "
        "dementia, diabetes with complications, depression"
    )
    none = _Person(
        {"cci_dementia": False},
        Record(),
        np.zeros(1),
        index={},
        as_of=AS_OF,
        spec=FeatureSpec(),
        templates=load_templates(),
        absent=frozenset(),
    )
    assert none.text("conditions") is None
