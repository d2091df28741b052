import datetime as dt

from _support.lists import features
from riskstrat.stratify import rule_cascade

AS_OF = dt.date(2024, 1, 1)


def test_each_rule_adds_only_people_not_found_by_earlier_rules():
    f = features(
        AS_OF,
        [
            {
                "patient_id": "a",
                "rule_frail_admission": True,
                "rule_two_admissions": True,
            },
            {"patient_id": "b", "rule_two_admissions": True},
            {"patient_id": "c", "rule_care_home": True, "rule_polypharmacy": True},
            {"patient_id": "d", "rule_nomination": True},
            {"patient_id": "e"},
            {"patient_id": "f", "age": 50, "rule_two_admissions": True},  # under 65
            {"patient_id": "g", "locality": "Y", "rule_polypharmacy": True},
        ],
    )
    loc = [
        {
            "locality": "X",
            "case_managers_fte": 0.06,
            "caseload_per_fte": 50,
            "reserve_share": 0,
        }
    ]
    t = rule_cascade(f, localities=loc).to_pylist()
    x = [
        (r["rule"], r["meets"], r["adds"], r["cumulative"], r["fits"], r["over_by"])
        for r in t
        if r["locality"] == "X"
    ]
    assert x == [
        ("rule_frail_admission", 1, 1, 1, True, 0),
        ("rule_two_admissions", 2, 1, 2, True, 0),
        ("rule_care_home", 1, 1, 3, True, 0),
        ("rule_polypharmacy", 1, 0, 3, True, 0),
        ("rule_nomination", 1, 1, 4, False, 1),
    ]
    y = [r for r in t if r["locality"] == "Y"]
    assert [r["cumulative"] for r in y] == [0, 0, 0, 1, 1]
    assert {r["listable"] for r in y} == {None}  # Y is not in the localities file


def test_an_uncomputable_rule_is_counted_as_unknown_not_as_false():
    f = features(
        AS_OF,
        [
            {"patient_id": "a", "rule_polypharmacy": None},
            {"patient_id": "b", "rule_polypharmacy": True},
        ],
    )
    poly = next(
        r for r in rule_cascade(f).to_pylist() if r["rule"] == "rule_polypharmacy"
    )
    assert (poly["meets"], poly["unknown"]) == (1, 1)
