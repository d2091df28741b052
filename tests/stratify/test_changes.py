import datetime as dt

import pyarrow as pa

from _support.lists import tables
from riskstrat.stratify import CHANGES_SCHEMA, EXCLUDED_SCHEMA, TIERS_SCHEMA
from riskstrat.stratify._changes import list_changes

D = dt.date
AS_OF = D(2024, 2, 1)


def _tiers(rows):
    full = [
        {
            "as_of": AS_OF,
            "risk": 0.5,
            "share_above": 0.0,
            "tier": "case_management",
            "risk_band": "top 1%",
            "enrolled": False,
            **r,
        }
        for r in rows
    ]
    return pa.Table.from_pylist(full, schema=TIERS_SCHEMA)


def _enrolments(rows=()):
    return pa.table(
        {
            "patient_id": pa.array([r[0] for r in rows], pa.string()),
            "locality": pa.array([r[1] for r in rows], pa.string()),
        }
    )


def test_a_listed_person_now_excluded_leaves_with_the_exclusion_reason():
    previous = _tiers([{"patient_id": "a", "locality": "X", "list": "waiting"}])
    now = _tiers([{"patient_id": "a", "locality": "X", "list": "excluded"}])
    excluded = pa.Table.from_pylist(
        [
            {
                "locality": "X",
                "patient_id": "a",
                "as_of": AS_OF,
                "reason": "paused_after_screening",
                "detail": "declined at screening on 2024-01-20",
                "since": D(2024, 1, 20),
            }
        ],
        schema=EXCLUDED_SCHEMA,
    )
    out = list_changes(
        now,
        excluded,
        as_of=AS_OF,
        previous=previous,
        enrolled=_enrolments(),
        tables=None,
    )
    assert out.schema.equals(CHANGES_SCHEMA)
    row = out.to_pylist()[0]
    assert (row["previous_list"], row["change"], row["reason"], row["date"]) == (
        "waiting",
        "left",
        "paused_after_screening",
        D(2024, 1, 20),
    )


def test_someone_gone_without_a_recorded_reason_is_not_eligible_not_guessed():
    previous = _tiers([{"patient_id": "a", "locality": "X", "list": "caseload"}])
    out = list_changes(
        _tiers([]),
        EXCLUDED_SCHEMA.empty_table(),
        as_of=AS_OF,
        previous=previous,
        enrolled=_enrolments(),
        tables=tables(patients=[{"patient_id": "a"}]),
    )
    assert out.to_pylist()[0]["reason"] == "not_eligible"
    assert out.to_pylist()[0]["date"] is None


def test_people_excluded_before_and_after_are_not_changes():
    previous = _tiers([{"patient_id": "a", "locality": "X", "list": "excluded"}])
    out = list_changes(
        _tiers([]),
        EXCLUDED_SCHEMA.empty_table(),
        as_of=AS_OF,
        previous=previous,
        enrolled=_enrolments(),
        tables=None,
    )
    assert out.num_rows == 0
