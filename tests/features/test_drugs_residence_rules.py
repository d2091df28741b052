"""Drugs, residence, nominations and the seed's case-finding rules."""

from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import build_features

D = dt.date
AS_OF = D(2022, 4, 1)


def _rx(pid, day, code, system="bnf"):
    return {
        "patient_id": pid,
        "issue_date": day,
        "drug_code": code,
        "drug_code_system": system,
    }


def _build(absent=(), **rows):
    rows.setdefault("admissions", [])
    t = tables_from_rows(absent=absent, **rows)
    return {r["patient_id"]: r for r in build_features(t, as_of=AS_OF).to_pylist()}


OLD = {"birth_date": D(1940, 1, 1), "sex": "female"}
YOUNG = {"birth_date": D(1960, 1, 1), "sex": "male"}


def test_distinct_drugs_and_chapters_in_90_days():
    f = _build(
        patients=[{"patient_id": "p", **OLD}, {"patient_id": "q", **OLD}],
        prescriptions=[
            _rx("p", D(2022, 1, 1), "0205051R0"),  # 90 days before: in
            _rx("p", D(2022, 2, 1), "0205051R0"),  # same drug again
            _rx("p", D(2022, 3, 1), "0212000B0"),
            _rx("p", D(2022, 3, 31), "0103050P0"),
            _rx("p", D(2021, 12, 31), "0407010H0"),  # 91 days before: out
            _rx("p", AS_OF, "0501013B0"),  # on as_of: future
            _rx("q", D(2022, 3, 1), "B01AF02", system="atc"),
        ],
    )
    assert f["p"]["drugs_90d"] == 3
    assert f["p"]["prescription_items_90d"] == 4  # the repeat counts twice
    assert f["q"]["prescription_items_90d"] == 1
    assert f["p"]["bnf_chapters_90d"] == 2  # 02, 01
    assert f["p"]["bnf_ch02_90d"] == 2 and f["p"]["bnf_ch01_90d"] == 1
    assert f["q"]["drugs_90d"] == 1 and f["q"]["bnf_chapters_90d"] == 0  # not BNF


def test_polypharmacy_rule_at_five_drugs_for_65_plus():
    drugs = ["0205051R0", "0212000B0", "0103050P0", "0407010H0", "0202020L0"]
    f = _build(
        patients=[{"patient_id": "old", **OLD}, {"patient_id": "young", **YOUNG}],
        prescriptions=[
            _rx(p, D(2022, 3, 1), c) for p in ("old", "young") for c in drugs
        ],
    )
    assert f["old"]["rule_polypharmacy"] is True and f["old"]["essex_priority"] == 4
    assert (
        f["young"]["rule_polypharmacy"] is False
        and f["young"]["essex_eligible"] is False
    )


def test_residence_on_as_of_move_on_as_of_is_future():
    f = _build(
        patients=[{"patient_id": k, **OLD} for k in "abcd"],
        residences=[
            {
                "patient_id": "a",
                "start_date": D(2021, 1, 1),
                "end_date": None,
                "residence_type": "nursing_home",
            },
            {
                "patient_id": "b",
                "start_date": AS_OF,
                "end_date": None,
                "residence_type": "residential_home",
            },
            {
                "patient_id": "c",
                "start_date": D(2020, 1, 1),
                "end_date": AS_OF,
                "residence_type": "residential_home",
            },
            {
                "patient_id": "d",
                "start_date": D(2020, 1, 1),
                "end_date": D(2021, 1, 1),
                "residence_type": "residential_home",
            },
        ],
    )
    assert f["a"]["residence_type"] == "nursing_home" and f["a"]["care_home"] is True
    assert f["b"]["residence_type"] == "private"  # moves in on as_of: not yet known
    assert (
        f["c"]["residence_type"] == "residential_home"
    )  # leaves on as_of: still there
    assert f["d"]["residence_type"] == "private"
    assert f["a"]["rule_care_home"] is True and f["a"]["essex_priority"] == 3


def test_two_admissions_of_any_kind_and_eligibility_the_day_after():
    adm = [
        {
            "patient_id": "p",
            "admission_date": D(2021, 6, 1),
            "discharge_date": D(2021, 6, 2),
            "emergency": False,
        },
        {
            "patient_id": "p",
            "admission_date": D(2022, 3, 31),
            "discharge_date": D(2022, 3, 31),
            "emergency": True,
        },
    ]
    t = tables_from_rows(patients=[{"patient_id": "p", **OLD}], admissions=adm)
    before = build_features(t, as_of=D(2022, 3, 31)).to_pylist()[0]
    after = build_features(t, as_of=AS_OF).to_pylist()[0]
    assert before["rule_two_admissions"] is False and before["essex_eligible"] is False
    assert after["rule_two_admissions"] is True and after["essex_priority"] == 2


def test_nomination_rule_and_priority_order():
    f = _build(
        patients=[{"patient_id": "p", **OLD}, {"patient_id": "q", **OLD}],
        nominations=[
            {"patient_id": "p", "date": D(2022, 1, 1), "reason": "x"},
            {"patient_id": "q", "date": D(2020, 1, 1), "reason": "old"},
        ],
    )
    assert (
        f["p"]["nominated_12m"]
        and f["p"]["rule_nomination"]
        and f["p"]["essex_priority"] == 5
    )
    assert f["q"]["nominated_ever"] and not f["q"]["nominated_12m"]
    assert f["q"]["essex_priority"] is None


def test_absent_tables_give_nulls_not_zeros():
    f = _build(
        absent=("prescriptions", "residences", "nominations"),
        patients=[{"patient_id": "p", **OLD}],
    )["p"]
    assert f["drugs_90d"] is None and f["bnf_ch01_90d"] is None
    assert f["prescription_items_90d"] is None
    assert f["residence_type"] is None and f["care_home"] is None
    assert f["nominated_12m"] is None
    assert f["rule_polypharmacy"] is None and f["essex_eligible"] is False


@pytest.mark.parametrize("chapter", range(1, 11))
def test_each_bnf_chapter_is_counted_in_its_own_column(chapter):
    code = f"{chapter:02d}01010A0"
    f = _build(
        patients=[{"patient_id": "p", **OLD}],
        prescriptions=[_rx("p", D(2022, 3, 1), code), _rx("p", D(2022, 3, 2), code)],
    )["p"]
    counts = {c: f[f"bnf_ch{c:02d}_90d"] for c in range(1, 11)}
    assert counts == {c: (1 if c == chapter else 0) for c in range(1, 11)}
    assert f["bnf_chapters_90d"] == 1 and f["drugs_90d"] == 1


def test_demographics_pass_through_as_given():
    f = _build(
        patients=[
            {
                "patient_id": "p",
                **OLD,
                "locality": "North",
                "practice_id": "P81001",
                "deprivation_decile": 2,
            },
            {"patient_id": "q", **YOUNG},
        ],
    )
    assert (f["p"]["sex"], f["p"]["locality"], f["p"]["practice_id"]) == (
        "female",
        "North",
        "P81001",
    )
    assert f["p"]["deprivation_decile"] == 2
    assert f["q"]["locality"] is None and f["q"]["deprivation_decile"] is None
    assert f["q"]["sex"] == "male"
