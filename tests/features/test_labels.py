from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import make_labels

D = dt.date
AS_OF = D(2022, 4, 1)


def _t(extract=D(2023, 6, 1)):
    return tables_from_rows(
        extract_date=extract,
        patients=[
            {"patient_id": "a", "birth_date": D(1940, 1, 1), "sex": "male"},
            {
                "patient_id": "b",
                "birth_date": D(1940, 1, 1),
                "sex": "male",
                "death_date": D(2022, 9, 1),
            },
            {
                "patient_id": "c",
                "birth_date": D(1940, 1, 1),
                "sex": "male",
                "death_date": D(2023, 4, 1),
            },
            {"patient_id": "d", "birth_date": D(1940, 1, 1), "sex": "male"},
        ],
        admissions=[
            {
                "patient_id": "a",
                "admission_date": AS_OF,
                "discharge_date": D(2022, 4, 4),
                "emergency": True,
            },
            {
                "patient_id": "a",
                "admission_date": D(2022, 3, 30),
                "discharge_date": D(2022, 4, 2),
                "emergency": True,
            },
            {
                "patient_id": "a",
                "admission_date": D(2023, 3, 31),
                "discharge_date": None,
                "emergency": True,
            },
            {
                "patient_id": "a",
                "admission_date": D(2023, 4, 1),
                "discharge_date": D(2023, 4, 2),
                "emergency": True,
            },
            {
                "patient_id": "d",
                "admission_date": D(2022, 5, 1),
                "discharge_date": D(2022, 5, 2),
                "emergency": False,
            },
        ],
    )


def test_labels_in_the_horizon():
    y = {r["patient_id"]: r for r in make_labels(_t(), as_of=AS_OF).to_pylist()}
    a = y["a"]
    # on as_of (counts) and 2023-03-31 (last day of the window, open: runs to the
    # window end 2023-04-01); 2022-03-30 is history, 2023-04-01 is after.
    assert a["emergency_admissions"] == 2 and a["emergency_admission"] is True
    assert a["emergency_bed_days"] == 3 + 1
    assert y["b"]["death"] is True and y["b"]["composite"] is True
    assert y["b"]["emergency_admission"] is False
    assert y["c"]["death"] is False  # dies on day 365: outside [as_of, as_of + 365)
    assert y["d"]["emergency_admission"] is False  # elective only
    assert y["d"]["composite"] is False


def test_window_past_the_extract_date_is_refused():
    with pytest.raises(ValueError, match="runs past the extract date 2022-12-31"):
        make_labels(_t(extract=D(2022, 12, 31)), as_of=AS_OF)


def test_open_spell_at_extract_is_counted_to_the_extract_date():
    y = make_labels(_t(extract=D(2023, 4, 1)), as_of=AS_OF).to_pylist()
    assert {r["patient_id"]: r["emergency_bed_days"] for r in y}["a"] == 3 + 1
