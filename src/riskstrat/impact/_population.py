"""Population measures of seed 003: rates per 1,000 against a baseline and target.

By locality and calendar month: emergency admissions and emergency bed days per
1,000 people per year (people counted by the days they were alive and on the
list), the same over a baseline year and the target (baseline less
``target_reduction``, seed 003: 5 %), average length of stay of emergency spells
admitted in the month, the share of emergency admissions between 17:00 and
08:00 among those with a known time (null when none is known: unknown stays
unknown), the number actively case managed on the first of the month, and the
cost of the month's bed days at ``cost_per_bed_day`` (seed 003: 1,000 bed days
= £300,000, so £300).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

__all__ = ["COST_PER_BED_DAY", "population_measures"]

#: Seed 003: "1000 bed days saved = £300,000 per annum".
COST_PER_BED_DAY = 300.0

_SQL = """
WITH months AS (
    SELECT m::DATE AS month, (m + INTERVAL 1 MONTH)::DATE AS next
    FROM range(DATE '{start}', DATE '{end}', INTERVAL 1 MONTH) AS t(m)
),
pats AS (
    SELECT patient_id, coalesce(locality, 'unknown') AS locality,
        registration_date AS reg,
        least(coalesce(death_date + 1, DATE '{data_end}'),
              coalesce(deregistration_date + 1, DATE '{data_end}'),
              DATE '{data_end}') AS leave
    FROM patients
),
pt AS (
    SELECT p.locality, m.month,
        sum(greatest(date_diff('day', greatest(m.month, coalesce(p.reg, m.month)),
            least(m.next, p.leave)), 0)) AS person_days
    FROM pats AS p, months AS m
    GROUP BY ALL
),
em AS (
    SELECT a.*, p.locality FROM admissions AS a JOIN pats AS p USING (patient_id)
    WHERE a.emergency AND a.admission_date < DATE '{data_end}'
),
adm AS (
    SELECT locality, date_trunc('month', admission_date)::DATE AS month,
        count(*) AS em_admissions,
        count(admission_time) AS with_time,
        count(*) FILTER (WHERE admission_time >= TIME '17:00:00'
                         OR admission_time < TIME '08:00:00') AS out_of_hours,
        avg(date_diff('day', admission_date, discharge_date))
            FILTER (WHERE discharge_date IS NOT NULL) AS avg_length_of_stay
    FROM em GROUP BY ALL
),
beds AS (
    SELECT e.locality, m.month,
        sum(greatest(date_diff('day', greatest(e.admission_date, m.month),
            least(coalesce(e.discharge_date, DATE '{data_end}'), m.next,
                  DATE '{data_end}')), 0)) AS em_bed_days
    FROM em AS e JOIN months AS m
        ON e.admission_date < m.next
        AND coalesce(e.discharge_date, DATE '{data_end}') > m.month
    GROUP BY ALL
),
cm AS (
    SELECT coalesce(e.locality, 'unknown') AS locality, m.month,
        count(DISTINCT e.patient_id) AS case_managed
    FROM enrolments AS e JOIN months AS m
        ON e.enrol_date <= m.month AND (e.end_date IS NULL OR e.end_date > m.month)
    GROUP BY ALL
)
SELECT pt.locality, pt.month, pt.person_days,
    coalesce(adm.em_admissions, 0) AS em_admissions,
    coalesce(beds.em_bed_days, 0) AS em_bed_days,
    adm.avg_length_of_stay,
    CASE WHEN coalesce(adm.with_time, 0) > 0
         THEN adm.out_of_hours / adm.with_time END AS out_of_hours_share,
    {cm_value} AS case_managed
FROM pt
LEFT JOIN adm USING (locality, month)
LEFT JOIN beds USING (locality, month)
{cm_join}
ORDER BY pt.locality, pt.month
"""


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def population_measures(
    tables,
    *,
    data_end: dt.date,
    baseline_start: dt.date | None = None,
    target_reduction: float = 0.05,
    cost_per_bed_day: float = COST_PER_BED_DAY,
) -> pd.DataFrame:
    """Monthly measures by locality (and ``"all"``), with baseline and target.

    Parameters
    ----------
    tables : Tables
        Canonical tables (``patients``, ``admissions``, ``enrolments``).
    data_end : datetime.date
        Nothing on or after it is used; the last month shown is the last whole
        month before it.
    baseline_start : datetime.date, optional
        First month of the baseline year (default: the twelve months before the
        month of the first enrolment, else the first twelve months shown).
    target_reduction : float, default=0.05
        The target is the baseline less this share (seed 003: 5 % fewer
        emergency bed days).
    cost_per_bed_day : float, default=300
        £ per emergency bed day.

    Returns
    -------
    DataFrame
        One row per locality and month from the baseline on: ``people``
        (average on the list), ``em_admissions``, ``em_bed_days``,
        ``admissions_per_1000``, ``bed_days_per_1000`` (per 1,000 people per
        year), ``baseline_*`` and ``target_*`` of both, ``avg_length_of_stay``,
        ``out_of_hours_share``, ``case_managed``, ``bed_day_cost``.
    """
    enrol = tables.enrolments
    has_enrolments = "enrolments" not in tables.absent
    if baseline_start is None:
        first = None
        if enrol.num_rows:
            first = min(d for d in enrol["enrol_date"].to_pylist() if d is not None)
        baseline_start = (
            _add_months(_month(first), -12)
            if first is not None
            else _add_months(_month(data_end), -24)
        )
    start = _month(baseline_start)
    end = _month(data_end)  # whole months only
    if end <= start:
        raise ValueError(
            f"population_measures: no whole month between the baseline start "
            f"{start} and the end of the data {data_end}."
        )
    sql = _SQL.format(
        start=start.isoformat(),
        end=end.isoformat(),
        data_end=data_end.isoformat(),
        cm_value="coalesce(cm.case_managed, 0)" if has_enrolments else "NULL",
        cm_join="LEFT JOIN cm USING (locality, month)" if has_enrolments else "",
    )
    with duckdb.connect() as con:
        con.register("patients", tables.patients)
        con.register("admissions", tables.admissions)
        con.register("enrolments", enrol)
        frame = con.sql(sql).df()
        # All localities together: sums, and weighted means of the shares.
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return _finish(frame, start, target_reduction, cost_per_bed_day)


def _finish(frame, start, target_reduction, cost_per_bed_day) -> pd.DataFrame:
    frame = frame.copy()
    frame["los_days"] = frame["avg_length_of_stay"] * frame["em_admissions"]
    frame["ooh"] = frame["out_of_hours_share"]
    total = (
        frame.groupby("month", as_index=False)
        .agg(
            person_days=("person_days", "sum"),
            em_admissions=("em_admissions", "sum"),
            em_bed_days=("em_bed_days", "sum"),
            los_days=("los_days", "sum"),
            case_managed=("case_managed", lambda s: s.sum(min_count=1)),
        )
        .assign(locality="all")
    )
    total["avg_length_of_stay"] = total["los_days"] / total["em_admissions"].where(
        total["em_admissions"] > 0
    )
    # all localities: the share among admissions with a known time (weights are
    # the admissions of localities whose share is known)
    known = frame.dropna(subset=["ooh"])
    weighted = (known["ooh"] * known["em_admissions"]).groupby(known["month"]).sum()
    weights = known["em_admissions"].groupby(known["month"]).sum()
    share = (weighted / weights.where(weights > 0)).astype(float)
    total["out_of_hours_share"] = total["month"].map(share).astype(float)
    out = pd.concat([frame, total], ignore_index=True)
    years = out["person_days"] / 365.25
    out["people"] = out["person_days"] / out["month"].map(
        lambda m: (_add_months(m, 1) - m).days
    )
    out["admissions_per_1000"] = out["em_admissions"] / years * 1000
    out["bed_days_per_1000"] = out["em_bed_days"] / years * 1000
    base = out[(out["month"] >= start) & (out["month"] < _add_months(start, 12))]
    b = base.groupby("locality")[["em_admissions", "em_bed_days", "person_days"]].sum()
    b_years = b["person_days"] / 365.25
    for what, col in (("admissions", "em_admissions"), ("bed_days", "em_bed_days")):
        rate = b[col] / b_years * 1000
        out[f"baseline_{what}_per_1000"] = out["locality"].map(rate)
        out[f"target_{what}_per_1000"] = out[f"baseline_{what}_per_1000"] * (
            1 - target_reduction
        )
    out["bed_day_cost"] = out["em_bed_days"] * cost_per_bed_day
    cols = [
        "locality",
        "month",
        "people",
        "em_admissions",
        "em_bed_days",
        "admissions_per_1000",
        "baseline_admissions_per_1000",
        "target_admissions_per_1000",
        "bed_days_per_1000",
        "baseline_bed_days_per_1000",
        "target_bed_days_per_1000",
        "avg_length_of_stay",
        "out_of_hours_share",
        "case_managed",
        "bed_day_cost",
    ]
    out = out[cols].sort_values(["locality", "month"], ignore_index=True)
    out["em_admissions"] = out["em_admissions"].astype("int64")
    out["em_bed_days"] = out["em_bed_days"].astype("int64")
    return out
