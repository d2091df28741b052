"""Admission windows, bed days, recency and cohort, on hand-checkable tables."""

from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import build_features

D = dt.date
AS_OF = D(2022, 4, 1)


def _p(pid, birth=D(1940, 1, 1), **kw):
    return {"patient_id": pid, "birth_date": birth, "sex": "female", **kw}


def _a(pid, adm, dis, emergency=True, time=None, primary=None, secondary=None):
    return {
        "patient_id": pid,
        "admission_date": adm,
        "discharge_date": dis,
        "emergency": emergency,
        "admission_time": time,
        "primary_diagnosis": primary,
        "secondary_diagnoses": secondary,
    }


@pytest.fixture(scope="module")
def feats():
    t = tables_from_rows(
        patients=[
            _p("a"),  # several spells
            _p("b"),  # open spell on as_of
            _p("c", death_date=D(2022, 3, 31)),  # died before as_of: out
            _p("d", death_date=AS_OF),  # dies on as_of: still in the cohort
            _p("e", registration_date=D(2022, 4, 2)),  # registers after as_of: out
            _p("f", deregistration_date=D(2022, 3, 1)),  # left before: out
            _p("g", birth=D(1957, 4, 1)),  # 65th birthday on as_of
            _p("h", birth=D(1957, 4, 2)),  # 65 tomorrow
            _p("i"),  # one admission of unknown urgency
        ],
        admissions=[
            _a(
                "a", D(2022, 3, 31), D(2022, 3, 31), time=dt.time(18, 0)
            ),  # same day, 1 day before
            _a(
                "a", D(2022, 1, 1), D(2022, 1, 11), time=dt.time(10, 0)
            ),  # 10 bed days, 90 days before
            _a(
                "a", D(2021, 10, 1), D(2021, 10, 4), time=dt.time(3, 0)
            ),  # 182 days before
            _a("a", D(2020, 4, 2), D(2020, 4, 3)),  # 729 days before, no time
            _a("a", D(2020, 4, 1), D(2020, 4, 9)),  # 730 days before: outside 24m
            _a("a", D(2021, 6, 1), D(2021, 6, 2), emergency=False),  # elective
            _a("i", D(2021, 7, 1), D(2021, 7, 2), emergency=None),  # unknown urgency
            _a("a", AS_OF, D(2022, 4, 5)),  # on as_of: future, ignored
            _a("b", D(2022, 3, 25), None),  # open spell: 7 bed days so far
            _a("c", D(2021, 1, 1), D(2021, 1, 2)),
        ],
    )
    return {r["patient_id"]: r for r in build_features(t, as_of=AS_OF).to_pylist()}


def test_cohort_alive_and_registered_on_as_of(feats):
    assert sorted(feats) == ["a", "b", "d", "g", "h", "i"]


def test_age_in_whole_years(feats):
    assert feats["g"]["age"] == 65 and feats["h"]["age"] == 64
    assert feats["a"]["age"] == 82


def test_emergency_admission_windows_are_half_open(feats):
    a = feats["a"]
    # 91 days: [2021-12-31, 2022-04-01) holds 2022-03-31 and 2022-01-01.
    assert a["em_admissions_3m"] == 2
    # 182 days: from 2021-10-01 (exactly 182 days before) inclusive.
    assert a["em_admissions_6m"] == 3
    assert a["em_admissions_12m"] == 3
    # 730 days: from 2020-04-01 inclusive -> 2020-04-02 and 2020-04-01 both count.
    assert a["em_admissions_24m"] == 5


def test_bed_days_same_day_is_zero_and_open_spell_runs_to_as_of(feats):
    a = feats["a"]
    assert a["em_bed_days_3m"] == 0 + 10
    assert a["em_bed_days_6m"] == 0 + 10 + 3
    assert a["em_bed_days_24m"] == 0 + 10 + 3 + 1 + 8
    b = feats["b"]
    assert b["em_bed_days_3m"] == 7
    assert b["in_hospital"] is True and a["in_hospital"] is False


def test_elective_unknown_and_all_admissions_counted_apart(feats):
    a = feats["a"]
    assert a["elective_admissions_12m"] == 1
    assert a["unknown_urgency_admissions_12m"] == 0
    assert a["admissions_12m"] == 3 + 1
    assert feats["i"]["unknown_urgency_admissions_12m"] == 1
    assert feats["i"]["admissions_12m"] == 1


def test_an_admission_of_unknown_urgency_makes_its_windows_unknown(feats):
    # i's only admission, 2021-07-01 (274 days before as_of), has unknown
    # urgency: the 3 and 6 month windows do not hold it and are 0; the 12 and 24
    # month counts could be 0 or 1, so they are null, never 0.
    i = feats["i"]
    assert (i["em_admissions_3m"], i["em_admissions_6m"]) == (0, 0)
    assert (i["em_admissions_12m"], i["em_admissions_24m"]) == (None, None)
    assert (i["em_bed_days_6m"], i["em_bed_days_12m"]) == (0, None)
    assert i["elective_admissions_12m"] is None
    assert i["days_since_last_em_admission"] is None
    assert i["em_out_of_hours_share_24m"] is None
    assert i["days_since_last_discharge"] == 273


def test_recency(feats):
    a, b = feats["a"], feats["b"]
    assert a["days_since_last_discharge"] == 1  # discharged 2022-03-31
    assert a["days_since_last_em_admission"] == 1
    assert b["days_since_last_discharge"] is None  # still in hospital
    assert b["days_since_last_em_admission"] == 7
    assert feats["g"]["days_since_last_discharge"] is None


def test_out_of_hours_share_over_timed_emergency_admissions(feats):
    # timed emergency admissions in 24 m: 18:00 (out), 10:00 (in), 03:00 (out)
    assert feats["a"]["em_out_of_hours_share_24m"] == pytest.approx(2 / 3)
    assert feats["b"]["em_out_of_hours_share_24m"] is None


def test_people_without_events_get_zeros_not_nulls(feats):
    g = feats["g"]
    assert g["em_admissions_24m"] == 0 and g["em_bed_days_24m"] == 0
    assert g["drugs_90d"] == 0 and g["residence_type"] == "private"
