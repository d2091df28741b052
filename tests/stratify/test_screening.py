import datetime as dt

import pyarrow.compute as pc
import pytest

from _support.canonical import VALID, write_folder
from _support.lists import tables
from riskstrat.stratify import StratifySettings, open_enrolments, screening_pauses

D = dt.date
AS_OF = D(2023, 6, 1)
PATIENTS = [{"patient_id": p} for p in ("a", "b", "c", "d", "e", "f", "g")]


def _paused(**rows):
    t = tables(patients=PATIENTS, **rows)
    return screening_pauses(t, as_of=AS_OF)["patient_id"].to_pylist()


def test_declined_and_unsuitable_pause_accepted_does_not():
    s = [
        {"patient_id": "a", "date": D(2023, 5, 1), "outcome": "declined"},
        {"patient_id": "b", "date": D(2023, 5, 1), "outcome": "unsuitable"},
        {"patient_id": "c", "date": D(2023, 5, 1), "outcome": "accepted"},
    ]
    assert _paused(screenings=s) == ["a", "b"]


def test_pause_lasts_relist_after_days():
    s = [
        {
            "patient_id": "a",
            "date": AS_OF - dt.timedelta(days=179),
            "outcome": "declined",
        },
        {
            "patient_id": "b",
            "date": AS_OF - dt.timedelta(days=180),
            "outcome": "declined",
        },
    ]
    assert _paused(screenings=s) == ["a"]
    t = tables(patients=PATIENTS, screenings=s)
    longer = screening_pauses(
        t, as_of=AS_OF, settings=StratifySettings(relist_after_days=365)
    )
    assert longer["patient_id"].to_pylist() == ["a", "b"]


def test_only_the_latest_screening_counts_and_future_ones_are_unseen():
    s = [
        {"patient_id": "a", "date": D(2023, 3, 1), "outcome": "declined"},
        {"patient_id": "a", "date": D(2023, 4, 1), "outcome": "accepted"},
        {"patient_id": "b", "date": D(2023, 4, 1), "outcome": "accepted"},
        {
            "patient_id": "b",
            "date": AS_OF,
            "outcome": "declined",
        },  # on as_of: not yet known
    ]
    assert _paused(screenings=s) == []


@pytest.mark.parametrize(
    ("table", "row"),
    [
        (
            "admissions",
            {
                "admission_date": D(2023, 5, 10),
                "discharge_date": D(2023, 5, 12),
                "emergency": False,
            },
        ),
        (
            "residences",
            {"start_date": D(2023, 5, 10), "residence_type": "nursing_home"},
        ),
        ("nominations", {"date": D(2023, 5, 10), "reason": "carer unwell"}),
    ],
)
def test_a_trigger_after_the_screening_lifts_the_pause(table, row):
    s = [{"patient_id": "a", "date": D(2023, 5, 1), "outcome": "declined"}]
    assert _paused(screenings=s, **{table: [{"patient_id": "a", **row}]}) == []
    # the same event before the screening does not
    before = {**row}
    for key in ("admission_date", "discharge_date", "start_date", "date"):
        if key in before:
            before[key] = D(2023, 4, 1) if key != "discharge_date" else D(2023, 4, 2)
    assert _paused(screenings=s, **{table: [{"patient_id": "a", **before}]}) == ["a"]


def test_a_move_into_private_housing_is_not_a_trigger():
    s = [{"patient_id": "a", "date": D(2023, 5, 1), "outcome": "declined"}]
    r = [{"patient_id": "a", "start_date": D(2023, 5, 10), "residence_type": "private"}]
    assert _paused(screenings=s, residences=r) == ["a"]


def test_crossing_five_drugs_after_the_screening_lifts_the_pause():
    s = [
        {"patient_id": "a", "date": D(2023, 5, 1), "outcome": "declined"},
        {"patient_id": "b", "date": D(2023, 5, 1), "outcome": "declined"},
    ]
    rx = [
        {
            "patient_id": "a",
            "issue_date": D(2023, 4, 1),
            "drug_code": f"d{i}",
            "drug_code_system": "bnf",
        }
        for i in range(4)
    ] + [
        {
            "patient_id": "a",
            "issue_date": D(2023, 5, 20),
            "drug_code": "d9",
            "drug_code_system": "bnf",
        }
    ]
    # b already had five before the screening: no crossing
    rx += [
        {
            "patient_id": "b",
            "issue_date": D(2023, 4, 1),
            "drug_code": f"d{i}",
            "drug_code_system": "bnf",
        }
        for i in range(5)
    ]
    assert _paused(screenings=s, prescriptions=rx) == ["b"]


def test_open_enrolments_use_the_as_of_convention():
    e = [
        {
            "patient_id": "a",
            "enrol_date": D(2023, 1, 1),
            "end_date": None,
            "locality": "X",
        },
        {
            "patient_id": "b",
            "enrol_date": D(2023, 1, 1),
            "end_date": AS_OF,
            "locality": "X",
        },
        {"patient_id": "c", "enrol_date": AS_OF, "end_date": None, "locality": "X"},
        {
            "patient_id": "d",
            "enrol_date": D(2023, 1, 1),
            "end_date": D(2023, 5, 31),
            "locality": "X",
        },
    ]
    t = tables(patients=PATIENTS, enrolments=e)
    assert open_enrolments(t, as_of=AS_OF)["patient_id"].to_pylist() == ["a", "b"]


def test_no_tables_means_nobody_enrolled_or_paused():
    assert open_enrolments(None, as_of=AS_OF).num_rows == 0
    assert screening_pauses(None, as_of=AS_OF).num_rows == 0


def test_screenings_are_validated_with_rejects_like_every_table(tmp_path):
    from riskstrat.exceptions import DataQualityWarning
    from riskstrat.sources import load_tables

    files = dict(
        VALID,
        screenings="patient_id,date,outcome\np1,2021-09-01,declined\np1,2021-09-02,maybe\np9,2021-09-03,accepted\n",
    )
    with pytest.warns(DataQualityWarning):
        t = load_tables(write_folder(tmp_path / "d", files))
    assert t.screenings.to_pylist() == [
        {"patient_id": "p1", "date": D(2021, 9, 1), "outcome": "declined"}
    ]
    rejects = t.rejects.filter(pc.equal(t.rejects["table"], "screenings"))
    assert sorted(rejects["rule"].to_pylist()) == ["not_allowed", "unknown_patient"]
    counts = {r["table"]: r for r in t.counts.to_pylist()}["screenings"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (3, 1, 2)
