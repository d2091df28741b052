import numpy as np
import pyarrow as pa
import pytest

from riskstrat.stratify import StratifySettings, assign_tiers
from riskstrat.stratify._tiers import share_above


def _table(risk):
    return pa.table(
        {
            "patient_id": [f"p{i:03d}" for i in range(len(risk))],
            "risk": pa.array(risk, pa.float64()),
        }
    )


def test_top_five_percent_of_a_hundred_are_case_management():
    t = assign_tiers(_table([i / 100 for i in range(100)]))
    tiers = t["tier"].to_pylist()
    assert tiers.count("case_management") == 5
    assert tiers.count("disease_management") == 25
    assert tiers.count("supported_self_care") == 70
    assert set(tiers[95:]) == {"case_management"}


def test_ties_at_the_cut_share_a_tier():
    risk = [0.1] * 8 + [0.5, 0.5]
    s = StratifySettings(case_management_cut=0.95, disease_management_cut=0.85)
    tiers = assign_tiers(_table(risk), settings=s)["tier"].to_pylist()
    assert tiers[8:] == ["case_management", "case_management"]
    assert tiers[:8] == ["supported_self_care"] * 8


def test_probability_cuts_read_the_risk_itself():
    s = StratifySettings(
        cut_by="probability", case_management_cut=0.5, disease_management_cut=0.2
    )
    tiers = assign_tiers(_table([0.5, 0.49, 0.2, 0.19]), settings=s)["tier"].to_pylist()
    assert tiers == [
        "case_management",
        "disease_management",
        "disease_management",
        "supported_self_care",
    ]


def test_unscored_people_have_no_tier_and_do_not_count_in_percentiles():
    t = assign_tiers(
        _table([0.9, None, 0.1]),
        settings=StratifySettings(case_management_cut=0.5, disease_management_cut=0.4),
    )
    assert t["tier"].to_pylist() == ["case_management", None, "disease_management"]
    assert t["share_above"].to_pylist() == [0.0, None, 0.5]
    assert t["risk_band"].to_pylist()[1] is None


def test_risk_bands_name_the_top_share():
    t = assign_tiers(_table([i / 1000 for i in range(1000)]))
    bands = t["risk_band"].to_pylist()
    assert bands[-1] == "top 1%"
    assert bands.count("top 1%") == 10
    assert bands.count("top 5%") == 40
    assert bands.count("below top 30%") == 700


def test_missing_risk_column_is_a_clear_error():
    with pytest.raises(ValueError, match="no `risk` column"):
        assign_tiers(pa.table({"patient_id": ["a"]}))


def test_share_above_counts_strictly_higher():
    assert share_above(np.array([3.0, 1.0, 3.0, np.nan])).tolist()[:3] == [
        0.0,
        2 / 3,
        0.0,
    ]
