import pytest

from riskstrat.stratify import StratifySettings


def test_defaults_follow_the_seed():
    s = StratifySettings()
    assert s.min_age == 65
    assert s.caseload_per_fte == 50
    assert s.reserve_share == 0.15
    assert s.relist_after_days == 180
    assert s.step_down_runs == 3
    assert s.priority == "risk"


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        StratifySettings().min_age = 70  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reserve_share": 0.6}, r"`reserve_share`.*\[0.0, 0.5\]. Got 0.6"),
        ({"caseload_per_fte": 10}, r"`caseload_per_fte`.*>= 20. Got 10"),
        ({"caseload_per_fte": 120}, r"`caseload_per_fte`.*at most 100. Got 120"),
        ({"priority": "age"}, r"`priority`.*Got 'age'"),
        ({"cut_by": "rank"}, r"`cut_by`.*Got 'rank'"),
        (
            {"case_management_cut": 0.5, "disease_management_cut": 0.7},
            "must not be above",
        ),
        ({"risk_bands": (0.3, 0.1)}, "increasing"),
        ({"relist_after_days": -1}, r"`relist_after_days`.*Got -1"),
        ({"step_down_runs": 0}, r"`step_down_runs`.*Got 0"),
    ],
)
def test_bad_settings_are_refused_with_the_parameter_and_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StratifySettings(**kwargs)
