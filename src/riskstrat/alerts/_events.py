"""Trigger events between two run dates, read from the canonical tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from riskstrat.sources import CONTRACT

__all__ = ["EVENTS_SCHEMA", "trigger_events"]

#: One row per trigger event in ``[since, as_of)``.
EVENTS_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("trigger", pa.string(), nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("still_in_hospital", pa.bool_()),
        pa.field("count_12m", pa.int64()),
        pa.field("text", pa.string()),
    ]
)

_SQL = """
WITH adm AS (
    SELECT patient_id, admission_date, discharge_date, emergency,
           row_number() OVER (
               PARTITION BY patient_id
               ORDER BY admission_date, discharge_date NULLS LAST, emergency NULLS LAST
           ) AS seq
    FROM admissions
    WHERE admission_date < $as_of
),
counted AS (
    -- admissions of any kind in the 12 months up to and including this one
    SELECT a.patient_id, a.seq, a.admission_date, a.discharge_date, a.emergency,
           count(*) AS n12
    FROM adm a JOIN adm b
      ON b.patient_id = a.patient_id
     AND b.seq <= a.seq
     AND b.admission_date >= a.admission_date - INTERVAL 364 DAY
    WHERE a.admission_date >= $since
    GROUP BY ALL
)
SELECT patient_id, 'emergency_admission' AS trigger, admission_date AS event_date,
       (discharge_date IS NULL OR discharge_date >= $as_of) AS still_in_hospital,
       n12 AS count_12m, NULL AS text
FROM counted WHERE emergency
UNION ALL
SELECT patient_id,
       CASE n12 WHEN 2 THEN 'second_admission_12m' ELSE 'third_admission_12m' END,
       admission_date, (discharge_date IS NULL OR discharge_date >= $as_of), n12, NULL
FROM counted WHERE n12 IN (2, 3)
UNION ALL
SELECT patient_id, 'any_admission', admission_date,
       (discharge_date IS NULL OR discharge_date >= $as_of), n12, NULL
FROM counted
UNION ALL
SELECT patient_id, 'care_home_move', start_date, NULL, NULL, residence_type
FROM residences
WHERE start_date >= $since AND start_date < $as_of
  AND residence_type IN ('residential_home', 'nursing_home')
UNION ALL
SELECT patient_id, 'nomination', date, NULL, NULL, reason
FROM nominations
WHERE date >= $since AND date < $as_of
ORDER BY patient_id, event_date, trigger
"""


def _table(tables: object | None, name: str) -> pa.Table:
    if tables is None:
        return CONTRACT[name].empty()
    return tables[name]  # type: ignore[index]


def trigger_events(tables: object, *, since: dt.date, as_of: dt.date) -> pa.Table:
    """Trigger events dated in ``[since, as_of)``, from the canonical tables.

    Parameters
    ----------
    tables : riskstrat.sources.Tables
        ``admissions``, ``residences`` and ``nominations`` are read.
    since, as_of : datetime.date
        The previous and the current run dates: events the previous run could
        not see (dated on or after its ``as_of``) and this run can.

    Returns
    -------
    pyarrow.Table
        :data:`EVENTS_SCHEMA`, one row per event: ``emergency_admission``
        (``still_in_hospital`` when not discharged before ``as_of``),
        ``second_admission_12m`` / ``third_admission_12m`` (an admission of any
        kind that is the person's second or third in the 365 days up to it),
        ``any_admission`` (every admission, for the frail-indicator trigger),
        ``care_home_move`` (``text`` = the residence type) and ``nomination``
        (``text`` = the reason). ``count_12m`` is the admissions in 12 months.

    Examples
    --------
    >>> from riskstrat.sources import Tables
    >>> adm = pa.Table.from_pylist([
    ...     {"patient_id": "a", "admission_date": dt.date(2023, 3, 1),
    ...      "discharge_date": dt.date(2023, 3, 4), "emergency": True},
    ...     {"patient_id": "a", "admission_date": dt.date(2023, 9, 1),
    ...      "discharge_date": None, "emergency": True}],
    ...     schema=CONTRACT["admissions"].arrow_schema())
    >>> t = Tables(patients=CONTRACT["patients"].empty(), admissions=adm)
    >>> e = trigger_events(t, since=dt.date(2023, 8, 1), as_of=dt.date(2023, 9, 5))
    >>> e.select(["trigger", "still_in_hospital", "count_12m"]).to_pylist()[:2]
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'trigger': 'any_admission', 'still_in_hospital': True, 'count_12m': 2},
     {'trigger': 'emergency_admission', 'still_in_hospital': True, 'count_12m': 2}]
    """
    with duckdb.connect() as con:
        for name in ("admissions", "residences", "nominations"):
            con.register(name, _table(tables, name))
        out = con.sql(_SQL, params={"since": since, "as_of": as_of}).to_arrow_table()
    return out.cast(EVENTS_SCHEMA)
