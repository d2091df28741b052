"""Screening outcomes: who is paused from the lists, and open enrolments."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from riskstrat.sources import CONTRACT
from riskstrat.stratify._settings import StratifySettings

__all__ = ["PAUSED_SCHEMA", "open_enrolments", "screening_pauses"]

#: People not to be listed because of a recent screening decision.
PAUSED_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("screening_date", pa.date32(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
    ]
)


def _table(tables: object | None, name: str) -> pa.Table:
    if tables is None:
        return CONTRACT[name].empty()
    return tables[name]  # type: ignore[index]


def open_enrolments(tables: object | None, *, as_of: dt.date) -> pa.Table:
    """People with an enrolment open on ``as_of``, one row each.

    An enrolment is open on ``as_of`` when ``enrol_date < as_of`` and
    ``end_date`` is null or ``>= as_of`` (an enrolment or a discharge dated
    ``as_of`` is not yet known, as for every event on ``as_of``).

    Returns
    -------
    pyarrow.Table
        ``patient_id``, ``enrol_date`` (the earliest open one), ``locality``.

    Examples
    --------
    >>> from riskstrat.sources import Tables, CONTRACT
    >>> jan, mar, jun = dt.date(2023, 1, 1), dt.date(2023, 3, 1), dt.date(2023, 6, 1)
    >>> e = pa.table({"patient_id": ["a", "b", "c"], "enrol_date": [jan, jan, jun],
    ...     "end_date": [None, mar, None], "locality": ["X", "X", "Y"]},
    ...     schema=CONTRACT["enrolments"].arrow_schema())
    >>> t = Tables(patients=CONTRACT["patients"].empty(),
    ...            admissions=CONTRACT["admissions"].empty(), enrolments=e)
    >>> open_enrolments(t, as_of=dt.date(2023, 6, 1))["patient_id"].to_pylist()
    ['a']
    """
    enrolments = _table(tables, "enrolments")
    with duckdb.connect() as con:
        con.register("enrolments", enrolments)
        return con.sql(
            """
            SELECT patient_id, min(enrol_date) AS enrol_date,
                   arg_min(locality, enrol_date) AS locality
            FROM enrolments
            WHERE enrol_date < $as_of AND (end_date IS NULL OR end_date >= $as_of)
            GROUP BY patient_id ORDER BY patient_id
            """,
            params={"as_of": as_of},
        ).to_arrow_table()


def screening_pauses(
    tables: object | None,
    *,
    as_of: dt.date,
    settings: StratifySettings | None = None,
) -> pa.Table:
    """People whose latest screening paused them from the lists on ``as_of``.

    A person is paused when their latest screening before ``as_of`` was
    ``declined`` or ``unsuitable``, less than ``settings.relist_after_days``
    days ago, and no trigger event happened after it (strictly after the
    screening date, before ``as_of``): a hospital admission of any kind (this
    covers the emergency, frail-indicator and second/third-admission triggers),
    a move into a residential or nursing home, a clinician nomination, or
    crossing ``settings.polypharmacy_threshold`` distinct drugs in 90 days (fewer
    in the 90 days before the screening, at least that many in the 90 days
    before ``as_of``).

    Returns
    -------
    pyarrow.Table
        :data:`PAUSED_SCHEMA`, sorted by ``patient_id``.

    Examples
    --------
    >>> from riskstrat.sources import Tables, CONTRACT
    >>> s = pa.table({"patient_id": ["a", "b"],
    ...     "date": [dt.date(2023, 1, 10), dt.date(2023, 1, 10)],
    ...     "outcome": ["declined", "accepted"]},
    ...     schema=CONTRACT["screenings"].arrow_schema())
    >>> t = Tables(patients=CONTRACT["patients"].empty(),
    ...            admissions=CONTRACT["admissions"].empty(), screenings=s)
    >>> screening_pauses(t, as_of=dt.date(2023, 2, 1))["patient_id"].to_pylist()
    ['a']
    >>> screening_pauses(t, as_of=dt.date(2023, 9, 1)).num_rows  # 180 days later
    0
    """
    settings = StratifySettings() if settings is None else settings
    inputs = {
        name: _table(tables, name)
        for name in ("screenings", "admissions", "residences", "nominations")
    }
    prescriptions = _table(tables, "prescriptions").select(
        ["patient_id", "issue_date", "drug_code"]
    )
    inputs["prescriptions"] = prescriptions.cast(
        pa.schema(
            [
                ("patient_id", pa.string()),
                ("issue_date", pa.date32()),
                ("drug_code", pa.string()),
            ]
        )
    )
    with duckdb.connect() as con:
        for name, table in inputs.items():
            con.register(name, table)
        result = con.sql(
            """
            WITH last AS (
                SELECT patient_id, max(date) AS date FROM screenings
                WHERE date < $as_of GROUP BY patient_id
            ),
            latest AS (
                -- several decisions on one day: the least permissive one counts
                SELECT s.patient_id, s.date,
                       CASE WHEN bool_or(s.outcome = 'unsuitable') THEN 'unsuitable'
                            WHEN bool_or(s.outcome = 'declined') THEN 'declined'
                            ELSE 'accepted' END AS outcome
                FROM screenings s JOIN last USING (patient_id, date)
                GROUP BY s.patient_id, s.date
            ),
            paused AS (
                SELECT * FROM latest
                WHERE outcome IN ('declined', 'unsuitable')
                  AND date_diff('day', date, $as_of) < $days
            ),
            triggered AS (
                SELECT p.patient_id FROM paused p JOIN admissions a
                  ON a.patient_id = p.patient_id
                 AND a.admission_date > p.date AND a.admission_date < $as_of
                UNION
                SELECT p.patient_id FROM paused p JOIN residences r
                  ON r.patient_id = p.patient_id
                 AND r.start_date > p.date AND r.start_date < $as_of
                 AND r.residence_type IN ('residential_home', 'nursing_home')
                UNION
                SELECT p.patient_id FROM paused p JOIN nominations n
                  ON n.patient_id = p.patient_id
                 AND n.date > p.date AND n.date < $as_of
                UNION
                SELECT p.patient_id FROM paused p JOIN prescriptions x
                  ON x.patient_id = p.patient_id
                GROUP BY p.patient_id, p.date
                HAVING count(DISTINCT x.drug_code) FILTER (
                           WHERE x.issue_date >= p.date - INTERVAL 90 DAY
                             AND x.issue_date < p.date) < $threshold
                   AND count(DISTINCT x.drug_code) FILTER (
                           WHERE x.issue_date >= $as_of - INTERVAL 90 DAY
                             AND x.issue_date < $as_of) >= $threshold
            )
            SELECT patient_id, date AS screening_date, outcome FROM paused
            WHERE patient_id NOT IN (SELECT patient_id FROM triggered)
            ORDER BY patient_id
            """,
            params={
                "as_of": as_of,
                "days": settings.relist_after_days,
                "threshold": settings.polypharmacy_threshold,
            },
        ).to_arrow_table()
    return result.cast(PAUSED_SCHEMA)
