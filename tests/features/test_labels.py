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


def _unknown_urgency_tables(emergency_d, death_b=None, emergency_c=True):
    """a: no admission; b: one admission of unknown urgency; c: one emergency and
    one unknown; d: `emergency_d` on its one admission."""
    pts = [
        {"patient_id": p, "birth_date": D(1940, 1, 1), "sex": "male"} for p in "abcd"
    ]
    pts[1]["death_date"] = death_b
    adm = [
        ("b", D(2022, 6, 1), None),
        ("c", D(2022, 6, 1), emergency_c),
        ("c", D(2022, 7, 1), None),
        ("d", D(2022, 8, 1), emergency_d),
    ]
    return tables_from_rows(
        extract_date=D(2023, 6, 1),
        patients=pts,
        admissions=[
            {
                "patient_id": p,
                "admission_date": day,
                "discharge_date": day + dt.timedelta(days=2),
                "emergency": em,
            }
            for p, day, em in adm
        ],
    )


def test_a_label_of_unknown_urgency_is_unknown_not_false():
    y = {
        r["patient_id"]: r
        for r in make_labels(_unknown_urgency_tables(False), as_of=AS_OF).to_pylist()
    }
    assert y["a"]["emergency_admission"] is False and y["a"]["composite"] is False
    b = y["b"]  # only an admission of unknown urgency: we cannot tell
    assert b["emergency_admission"] is None and b["emergency_admissions"] is None
    assert b["emergency_bed_days"] is None and b["composite"] is None
    c = y["c"]  # one known emergency: true, but how many is unknown
    assert c["emergency_admission"] is True and c["composite"] is True
    assert c["emergency_admissions"] is None and c["emergency_bed_days"] is None
    d = y["d"]  # elective only: known false
    assert d["emergency_admission"] is False and d["emergency_admissions"] == 0


def test_a_death_in_the_window_makes_composite_true_whatever_the_urgency():
    t = _unknown_urgency_tables(False, death_b=D(2022, 9, 1))
    b = {r["patient_id"]: r for r in make_labels(t, as_of=AS_OF).to_pylist()}["b"]
    assert b["death"] is True and b["composite"] is True
    assert b["emergency_admission"] is None


def test_all_urgency_unknown_makes_every_emergency_label_unknown():
    # No admission has a known urgency: even a person with no admission cannot
    # be told apart from one whose emergency admissions the source does not show.
    t = _unknown_urgency_tables(None, emergency_c=None)
    y = make_labels(t, as_of=AS_OF).to_pydict()
    assert y["patient_id"] == ["a", "b", "c", "d"]
    assert y["emergency_admission"] == [None] * 4
    assert y["emergency_admissions"] == [None] * 4
    assert y["emergency_bed_days"] == [None] * 4
    assert y["death"] == [False] * 4 and y["composite"] == [None] * 4
