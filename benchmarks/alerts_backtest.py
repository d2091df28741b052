"""Back-test of step-up alerts: replay the synthetic history month by month.

Usage::

    python benchmarks/alerts_backtest.py --patients 20000 --seed 0

A synthetic population is simulated (2019-04-01 to 2024-04-01); the risk model is
trained once (``riskstrat.model.fit_models``, training snapshot 2021-04-01, 365-day
horizon) and frozen. Then every month from 2022-04-01 to 2023-12-01 the run is
replayed as the nightly job would: features as of the run date, scores, tiers and
caseloads (``riskstrat.stratify.caseloads``), and alerts against the previous month
(``riskstrat.alerts.diff_runs``, alert keys carried forward so each is raised once).

For each step-up alert the outcome is an emergency admission in the 90 days from
the run date that raised it, ``[as_of, as_of + 90)``. Printed: the PPV of alerts
(overall and by trigger), the base rate of the same outcome among every eligible
person-month of the same runs, the base rate of the alerted people in the months
they were not alerted, and the median lead time (days from the alert's run date to
the admission, among alerts followed by one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import time

import duckdb
import pyarrow as pa


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return out


def _outcomes(admissions: pa.Table, pairs: pa.Table, horizon: int) -> pa.Table:
    """First emergency admission in [as_of, as_of + horizon) per (patient_id, as_of)."""
    with duckdb.connect() as con:
        con.register(
            "admissions",
            admissions.select(["patient_id", "admission_date", "emergency"]),
        )
        con.register("pairs", pairs)
        return con.sql(
            f"""
            SELECT p.patient_id, p.as_of,
                   min(a.admission_date) AS next_admission
            FROM pairs p LEFT JOIN admissions a
              ON a.patient_id = p.patient_id AND a.emergency
             AND a.admission_date >= p.as_of
             AND a.admission_date < p.as_of + INTERVAL {horizon} DAY
            GROUP BY ALL
            """
        ).to_arrow_table()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", default="2022-04-01")
    ap.add_argument("--last", default="2023-12-01")
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--risk-rise", type=float, default=0.10)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="  %(message)s")

    from riskstrat.alerts import RunSnapshot, diff_runs
    from riskstrat.features import build_features
    from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign, fit_models
    from riskstrat.stratify import StratifySettings, caseloads
    from riskstrat.synth import make_population

    tic = time.perf_counter()
    pop = make_population(
        args.patients,
        start=dt.date(2019, 4, 1),
        end=dt.date(2024, 4, 1),
        random_state=args.seed,
    )
    tables = pop.tables
    print(
        f"population: {tables.patients.num_rows} people, "
        f"{time.perf_counter() - tic:.1f} s"
    )
    tic = time.perf_counter()
    design = ModelDesign(
        cohort=CohortSettings(),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
        ),
        random_state=args.seed,
    )
    trained = fit_models(tables, design)
    print(f"model trained once on 2021-04-01 in {time.perf_counter() - tic:.1f} s")

    settings = StratifySettings(risk_rise=args.risk_rise)
    runs = _months(dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last))
    previous = None
    raised: list[str] = []
    alerts, eligible = [], []
    localities = None
    tic = time.perf_counter()
    for as_of in runs:
        feats = build_features(tables, as_of=as_of)
        if "as_of" not in feats.column_names:  # until features carry as_of (issue 10)
            feats = feats.add_column(
                1, "as_of", pa.array([as_of] * feats.num_rows, pa.date32())
            )
        frame = feats.to_pandas()
        risk = trained.risk_model.predict_proba(frame[trained.feature_columns])[:, 1]
        scores = pa.table(
            {
                "patient_id": feats["patient_id"],
                "as_of": feats["as_of"],
                "risk": pa.array(risk, pa.float64()),
            }
        )
        if localities is None:
            # capacity for about 3 % of each locality's people aged 65+ at 50 per FTE
            old = frame[frame["age"] >= settings.min_age]
            localities = [
                {"locality": loc, "case_managers_fte": round(n * 0.03 / 50, 2)}
                for loc, n in sorted(old.groupby("locality").size().items())
            ]
        lists = caseloads(
            scores,
            feats,
            as_of=as_of,
            localities=localities,
            tables=tables,
            settings=settings,
        )
        snapshot = RunSnapshot(as_of=as_of, scores=lists.tiers, features=feats)
        result = diff_runs(
            previous, snapshot, tables=tables, settings=settings, raised=raised
        )
        raised += result.keys
        previous = result.current
        alerts.append(result.alerts)
        eligible.append(lists.tiers.select(["patient_id", "as_of"]))
    print(f"{len(runs)} monthly runs replayed in {time.perf_counter() - tic:.1f} s")

    alerts_t = pa.concat_tables(alerts)
    people = pa.concat_tables(eligible)
    out_alert = _outcomes(
        tables.admissions,
        alerts_t.select(["patient_id", "as_of"])
        .group_by(["patient_id", "as_of"])
        .aggregate([]),
        args.horizon,
    )
    out_all = _outcomes(tables.admissions, people, args.horizon)
    with duckdb.connect() as con:
        con.register("alerts", alerts_t)
        con.register("o_alert", out_alert)
        con.register("o_all", out_all)
        by_trigger = con.sql(
            """
            SELECT a.trigger, count(*) AS alerts,
                   avg(CASE WHEN o.next_admission IS NOT NULL THEN 1 ELSE 0 END) AS ppv,
                   median(date_diff('day', a.as_of, o.next_admission)) AS lead_days
            FROM alerts a JOIN o_alert o USING (patient_id, as_of)
            GROUP BY a.trigger ORDER BY alerts DESC
            """
        ).fetchall()
        person_runs = con.sql(
            """
            SELECT count(*) AS n,
                   avg(CASE WHEN next_admission IS NOT NULL THEN 1 ELSE 0 END) AS rate,
                   median(date_diff('day', as_of, next_admission)) AS median_lead
            FROM o_alert
            """
        ).fetchall()[0]
        base = con.sql(
            "SELECT count(*), avg(CAST(next_admission IS NOT NULL AS INT)) FROM o_all"
        ).fetchall()[0]
        same_people = con.sql(
            """
            SELECT count(*), avg(CAST(o.next_admission IS NOT NULL AS INT))
            FROM o_all o
            WHERE o.patient_id IN (SELECT patient_id FROM o_alert)
              AND (o.patient_id, o.as_of) NOT IN (
                  SELECT (patient_id, as_of) FROM o_alert)
            """
        ).fetchall()[0]
    leads = [
        (r["next_admission"] - r["as_of"]).days
        for r in out_alert.to_pylist()
        if r["next_admission"] is not None
    ]
    print()
    print(
        f"runs {runs[0]} .. {runs[-1]} (monthly), outcome: emergency admission "
        f"within {args.horizon} days"
    )
    print(f"step-up alerts: {alerts_t.num_rows} on {person_runs[0]} person-runs")
    print(f"PPV (person-runs with an alert):          {person_runs[1]:.3f}")
    print(
        f"base rate, every eligible person-run:     {base[1]:.3f}  "
        f"({base[0]} person-runs)"
    )
    print(
        f"base rate, alerted people, other months:  {same_people[1]:.3f}  "
        f"({same_people[0]} person-runs)"
    )
    print(
        f"median lead time, run date to admission:  {statistics.median(leads):.0f} "
        f"days ({len(leads)} admissions)"
    )
    print()
    print("| trigger | alerts | PPV | median lead (days) |")
    print("|---|---:|---:|---:|")
    for trigger, n, ppv, lead in by_trigger:
        lead_text = "" if lead is None else f"{lead:.0f}"
        print(f"| {trigger} | {n} | {ppv:.3f} | {lead_text} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
