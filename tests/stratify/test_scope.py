"""Seed 003's Table one reproduced from its own inputs; Table Two as costs."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from riskstrat.stratify import pay_bands, round_half_up, scope, table_one

T1 = table_one().to_pylist()
LOCALITIES = [r for r in T1 if r["level"] == "locality"]
PCTS = [r for r in T1 if r["level"] == "pct"]
TOTAL = next(r for r in T1 if r["level"] == "total")


def test_table_one_totals_from_its_inputs():
    # inputs: the indicative total for Essex and each locality's weighted capitation
    s = scope(
        [
            {"area": r["area"], "weighted_capitation": r["weighted_capitation"]}
            for r in LOCALITIES
        ],
        total_patients=TOTAL["expected_patients"],
    )
    assert s.total_patients == 7644
    assert s.tranche == 1911 == TOTAL["tranche_2005_06"]
    assert sum(s.areas["expected_patients"].to_pylist()) == 7644
    # the printed localities add up to the printed total
    assert sum(r["expected_patients"] for r in LOCALITIES) == 7644
    # each printed PCT row is the sum of its localities
    for pct in PCTS:
        mine = [r for r in LOCALITIES if r["pct"] == pct["pct"]]
        assert pct["expected_patients"] == sum(r["expected_patients"] for r in mine), (
            pct["area"]
        )
        assert pct["tranche_2005_06"] == sum(r["tranche_2005_06"] for r in mine), pct[
            "area"
        ]
    # the five PCTs add up to the total
    assert sum(p["expected_patients"] for p in PCTS) == 7644


def test_each_locality_is_its_share_within_the_rounding_of_the_printed_weights():
    # The weights are printed to 0.1 %, so a locality's share of 7,644 is known to
    # +/- 0.05 % of 7,644 (3.8 patients) plus the rounding of the number itself.
    s = scope(
        [
            {"area": r["area"], "weighted_capitation": r["weighted_capitation"]}
            for r in LOCALITIES
        ],
        total_patients=7644,
    )
    for mine, printed in zip(s.areas.to_pylist(), LOCALITIES, strict=True):
        assert (
            abs(mine["expected_patients"] - printed["expected_patients"])
            <= 0.0005 * 7644 + 0.5 + 1
        ), printed["area"]


def test_the_seeds_rows_that_do_not_add_up_are_named():
    # Weighted capitation of the localities: North East Essex prints 20.5 but its
    # localities (Colchester 9.6 + Tendring 10.8) add up to 20.4 ...
    off = []
    for pct in PCTS:
        mine = [r for r in LOCALITIES if r["pct"] == pct["pct"]]
        if (
            round(sum(r["weighted_capitation"] for r in mine), 1)
            != pct["weighted_capitation"]
        ):
            off.append(pct["area"])
    assert off == ["North East Essex"]
    # ... and the PCT rows add up to 100.2 %, not the printed 100.00.
    assert round(sum(p["weighted_capitation"] for p in PCTS), 1) == 100.2
    # The 25 % tranche: every locality is 25 % rounded half up except Tendring
    # (826 x 25 % = 206.5, printed 206).
    off = [
        r["area"]
        for r in LOCALITIES
        if round_half_up(0.25 * r["expected_patients"]) != r["tranche_2005_06"]
    ]
    assert off == ["Tendring"]
    # The PCT tranches are sums of their localities' tranches, so they add up to
    # 1,909, not the printed total 1,911 (= 25 % of 7,644).
    assert sum(p["tranche_2005_06"] for p in PCTS) == 1909
    assert round_half_up(0.25 * 7644) == 1911


def test_case_managers_needed_and_their_cost_by_band():
    s = scope(
        [{"area": "Essex", "weighted_capitation": 1}],
        total_patients=7644,
        caseload_per_fte=50,
    )
    area = s.areas.to_pylist()[0]
    assert area["case_managers_fte"] == pytest.approx(152.88)
    assert (
        area["case_managers"] == 153
    )  # the seed's "150 case managers ... caseloads of 50"
    assert area["tranche_case_managers"] == 39  # 1,911 / 50 = 38.2
    band7 = s.costs.filter(pc.equal(s.costs["band"], "Level 7")).to_pylist()[0]
    assert (band7["cost_min"], band7["cost_max"]) == (153 * 26106, 153 * 34417)
    assert s.costs.num_rows == pay_bands().num_rows == 12


def test_pay_bands_are_ranges():
    for b in pay_bands().to_pylist():
        assert b["pay_min"] < b["pay_max"], b["band"]


def test_capitation_from_a_csv_file_and_bad_values(tmp_path):
    f = tmp_path / "capitation.csv"
    f.write_text("# weights\narea,weighted_capitation\nA,1\nB,3\n")
    assert scope(f, total_patients=100).areas["expected_patients"].to_pylist() == [
        25,
        75,
    ]
    f.write_text("area,weighted_capitation\nA,1\nB,lots\n")
    with pytest.raises(
        ValueError,
        match=r"capitation.csv: row 2, column weighted_capitation: not a number. Got 'lots'",
    ):
        scope(f, total_patients=100)
    with pytest.raises(ValueError, match="total_patients"):
        scope(
            pa.table({"area": ["A"], "weighted_capitation": [1.0]}), total_patients=-1
        )


def test_largest_remainder_adds_up_exactly():
    s = scope(
        [{"area": a, "weighted_capitation": 1} for a in "ABC"], total_patients=100
    )
    assert s.areas["expected_patients"].to_pylist() == [34, 33, 33]
