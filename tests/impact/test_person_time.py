"""Person-time and outcomes in a window, on tiny literal tables."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from riskstrat.impact import WINDOWS_SCHEMA, per_year, window_outcomes
from riskstrat.sources import CONTRACT

d = dt.date
START, END = d(2023, 1, 1), d(2024, 1, 1)  # 365 days
DATA_END = d(2025, 1, 1)


def _patients(rows):
    full = [{"birth_date": d(1940, 1, 1), "sex": "female", **r} for r in rows]
    return pa.Table.from_pylist(full, schema=CONTRACT["patients"].arrow_schema())


def _admissions(rows):
    return pa.Table.from_pylist(rows, schema=CONTRACT["admissions"].arrow_schema())


def _windows(rows):
    full = [
        {"row": i, "start": START, "end": END, "censor": None, **r}
        for i, r in enumerate(rows)
    ]
    return pa.Table.from_pylist(full, schema=WINDOWS_SCHEMA)


def _adm(pid, admitted, discharged, emergency=True):
    return {
        "patient_id": pid,
        "admission_date": admitted,
        "discharge_date": discharged,
        "emergency": emergency,
    }


PATIENTS = _patients(
    [
        {"patient_id": "full"},
        {"patient_id": "died", "death_date": d(2023, 3, 31)},
        {"patient_id": "left", "deregistration_date": d(2023, 6, 30)},
        {"patient_id": "joined", "registration_date": d(2023, 7, 1)},
        {"patient_id": "before", "death_date": d(2022, 6, 1)},
    ]
)


def _one(pid, admissions=(), data_end=DATA_END, **window):
    out = window_outcomes(
        _windows([{"patient_id": pid, **window}]),
        PATIENTS,
        _admissions(list(admissions)),
        data_end=data_end,
    )
    return out.to_pylist()[0]


@pytest.mark.parametrize(
    ("pid", "days"),
    [
        ("full", 365),
        ("died", 90),  # Jan 1 to Mar 31 inclusive: the death day counts
        ("left", 181),  # to the deregistration day inclusive
        ("joined", 184),  # from the registration day
        ("before", 0),  # dead before the window
        ("nobody", 0),  # not in patients at all
    ],
)
def test_person_days_end_at_death_deregistration_and_start_at_registration(pid, days):
    assert _one(pid)["person_days"] == days


def test_censor_and_the_end_of_the_data_end_person_time():
    # a control who enrols on 1 March stops counting that day (exclusive)
    assert _one("full", censor=d(2023, 3, 1))["person_days"] == 59
    # nothing on or after data_end is known
    assert _one("full", data_end=d(2023, 2, 1))["person_days"] == 31


def test_bed_days_are_clipped_to_the_window_and_admissions_counted_inside():
    spells = [
        _adm("full", d(2022, 12, 25), d(2023, 1, 5)),  # straddles the start: 4 days
        _adm("full", d(2023, 6, 1), d(2023, 6, 1)),  # same day: 1 admission, 0 days
        _adm("full", d(2023, 8, 1), d(2023, 8, 11)),  # 10 days
        _adm("full", d(2023, 12, 28), d(2024, 1, 9)),  # straddles the end: 4 days
        _adm("full", d(2023, 9, 1), d(2023, 9, 20), emergency=False),  # elective
        _adm("full", d(2023, 10, 1), d(2023, 10, 5), emergency=None),  # unknown
        _adm("full", d(2024, 2, 1), d(2024, 2, 9)),  # after the window
    ]
    r = _one("full", spells)
    assert (r["em_admissions"], r["em_bed_days"]) == (3, 18)


def test_an_open_spell_runs_to_the_end_of_person_time():
    r = _one("full", [_adm("full", d(2023, 12, 1), None)], data_end=d(2023, 12, 11))
    assert (r["person_days"], r["em_admissions"], r["em_bed_days"]) == (344, 1, 10)


def test_death_ends_bed_days_and_admissions_after_it_do_not_count():
    spells = [
        _adm("died", d(2023, 3, 20), None),  # died in hospital on 31 March
        _adm("died", d(2023, 5, 1), d(2023, 5, 2)),  # impossible, after death
    ]
    r = _one("died", spells)
    assert (r["person_days"], r["em_admissions"], r["em_bed_days"]) == (90, 1, 12)


def test_censored_control_loses_events_from_the_day_they_enrol():
    spells = [
        _adm("full", d(2023, 2, 1), d(2023, 2, 3)),
        _adm("full", d(2023, 3, 1), d(2023, 3, 4)),
    ]
    r = _one("full", spells, censor=d(2023, 3, 1))
    assert (r["em_admissions"], r["em_bed_days"]) == (1, 2)


def test_enrolment_ending_does_not_end_person_time():
    # Intention to treat: the enrolments table is not an input of person-time;
    # an enrolled person's window is the same whatever their end_date.
    assert _one("full")["person_days"] == 365


def test_per_year_pools_events_over_person_time():
    import numpy as np

    assert per_year(np.array([1, 3]), np.array([365.25, 365.25])) == 2.0
    assert np.isnan(per_year(np.array([0]), np.array([0])))
