"""Outcomes per person-time: emergency admissions and bed days in a window.

One definition serves the estimator, the placebo and the truth, so they compare
like with like. A window ``[start, end)`` of a person is cut to the time they
were at risk and on the list: from ``max(start, registration_date)`` to the
earliest of ``end``, the day after death, the day after deregistration, a
``censor`` date (exclusive) and the end of the data (exclusive). In that time:
emergency admissions are spells admitted in it (``emergency`` true; unknown
urgency is not counted as emergency), and emergency bed days are the days of
emergency spells that fall in it (a spell that straddles an edge is clipped to
the window; a spell still open runs to the window's end; a same-day spell has 0).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["WINDOWS_SCHEMA", "window_outcomes"]

#: One window per row: who, from when, to when (exclusive), censored when.
WINDOWS_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("start", pa.date32(), nullable=False),
        pa.field("end", pa.date32(), nullable=False),
        pa.field("censor", pa.date32()),
    ]
)

_SQL = """
WITH w AS (
    SELECT w.row,
        w.patient_id,
        greatest(w.start, coalesce(p.registration_date, w.start)) AS s,
        CASE WHEN p.patient_id IS NULL THEN w.start ELSE least(
            w."end",
            coalesce(p.death_date + 1, w."end"),
            coalesce(p.deregistration_date + 1, w."end"),
            coalesce(w.censor, w."end"),
            DATE '{data_end}'
        ) END AS e
    FROM windows AS w
    LEFT JOIN patients AS p USING (patient_id)
),
spells AS (
    SELECT w.row,
        count(*) FILTER (WHERE a.admission_date >= w.s) AS em_admissions,
        sum(greatest(date_diff('day', greatest(a.admission_date, w.s),
            least(coalesce(a.discharge_date, w.e), w.e)), 0)) AS em_bed_days
    FROM w
    JOIN admissions AS a
        ON a.patient_id = w.patient_id
        AND a.emergency
        AND a.admission_date < w.e
        AND coalesce(a.discharge_date, w.e) >= w.s
    WHERE w.e > w.s
    GROUP BY w.row
)
SELECT w.row,
    greatest(date_diff('day', w.s, w.e), 0)::BIGINT AS person_days,
    coalesce(spells.em_admissions, 0)::BIGINT AS em_admissions,
    coalesce(spells.em_bed_days, 0)::BIGINT AS em_bed_days
FROM w LEFT JOIN spells USING (row)
ORDER BY w.row
"""


def window_outcomes(
    windows: pa.Table,
    patients: pa.Table,
    admissions: pa.Table,
    *,
    data_end: dt.date,
) -> pa.Table:
    """Person-days, emergency admissions and emergency bed days in each window.

    Parameters
    ----------
    windows : pyarrow.Table
        :data:`WINDOWS_SCHEMA`: ``row`` (a unique key), ``patient_id``,
        ``start``, ``end`` (exclusive), ``censor`` (exclusive; null = none).
    patients, admissions : pyarrow.Table
        Canonical tables (``registration_date``, ``death_date``,
        ``deregistration_date``; ``admission_date``, ``discharge_date``,
        ``emergency``).
    data_end : datetime.date
        Nothing on or after this date is known (exclusive).

    Returns
    -------
    pyarrow.Table
        ``row``, ``person_days``, ``em_admissions``, ``em_bed_days``, sorted by
        ``row``; a person not in ``patients`` or not at risk has 0 person-days.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> d = dt.date
    >>> w = pa.table({"row": [0], "patient_id": ["a"], "start": [d(2023, 1, 1)],
    ...     "end": [d(2024, 1, 1)], "censor": [None]}, schema=WINDOWS_SCHEMA)
    >>> p = pa.table({"patient_id": ["a"], "registration_date": [None],
    ...     "death_date": [d(2023, 7, 1)], "deregistration_date": [None]},
    ...     schema=pa.schema([("patient_id", pa.string()),
    ...         ("registration_date", pa.date32()), ("death_date", pa.date32()),
    ...         ("deregistration_date", pa.date32())]))
    >>> a = pa.table({"patient_id": ["a"], "admission_date": [d(2022, 12, 30)],
    ...     "discharge_date": [d(2023, 1, 4)], "emergency": [True]})
    >>> window_outcomes(w, p, a, data_end=d(2024, 4, 1)).to_pylist()
    [{'row': 0, 'person_days': 182, 'em_admissions': 0, 'em_bed_days': 3}]
    """
    windows = windows.select(WINDOWS_SCHEMA.names).cast(WINDOWS_SCHEMA)
    pats = patients.select(
        ["patient_id", "registration_date", "death_date", "deregistration_date"]
    )
    adm = admissions.select(
        ["patient_id", "admission_date", "discharge_date", "emergency"]
    )
    with duckdb.connect() as con:
        con.register("windows", windows)
        con.register("patients", pats)
        con.register("admissions", adm)
        out = con.sql(_SQL.format(data_end=data_end.isoformat())).to_arrow_table()
    return out


def per_year(events: np.ndarray, person_days: np.ndarray) -> float:
    """Pooled rate per person-year: ``sum(events) / sum(person_days) * 365.25``.

    Examples
    --------
    >>> per_year(np.array([1, 1]), np.array([365.25, 365.25]))
    1.0
    """
    days = float(np.sum(person_days))
    return float(np.sum(events)) / days * 365.25 if days > 0 else float("nan")
