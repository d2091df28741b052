"""Benchmark the nightly run (``riskstrat score``) end to end, stage by stage.

Usage::

    python benchmarks/nightly.py --patients 100000          # generate, train, score
    python benchmarks/nightly.py --data DIR                  # a validated folder
    python benchmarks/nightly.py --data DIR --engine spark   # features on Spark
    python benchmarks/nightly.py --data DIR --model NAME@ALIAS --tracking-uri URI
                                                             # score with a model
                                                             # already registered

Generates a synthetic population (or takes a folder of validated tables), trains
and registers a model in a temporary MLflow store, then runs
:func:`riskstrat.batch.run_nightly` for two consecutive months with a localities
file, printing each stage's time and the process's peak RSS after each stage.
The plain baseline in the same run is reading the validated tables into pandas
and scoring the same feature table with ``predict_proba`` (no lists, no alerts,
no manifest): the ratio says what the run costs above "just score".
Targets at 1M people (issue 15): whole run <= 3 minutes, peak RSS <= 8 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import tempfile
import time
from pathlib import Path


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=None, help="validated folder")
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    ap.add_argument("--as-of", default="2024-02-01")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--model",
        default=None,
        help="a registered NAME@ALIAS to score with (with --tracking-uri): no training",
    )
    ap.add_argument("--tracking-uri", default=None)
    args = ap.parse_args(argv)

    from riskstrat.batch import NightlySettings, run_nightly
    from riskstrat.features import build_cohort, feature_schema
    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        feature_columns,
        fit_models,
        load_model,
        log_training_run,
    )
    from riskstrat.sources import open_tables

    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="riskstrat-nightly-"))
    data = args.data
    tic = time.perf_counter()
    if data is None:
        from riskstrat.synth import make_population

        data = tmp / "pop"
        make_population(args.patients, random_state=args.seed).write(data)
        print(
            f"generated {args.patients:,} people in {time.perf_counter() - tic:.0f} s"
        )
    opened = open_tables(data)
    if args.model is None:
        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        model = "bench@champion"
        design = ModelDesign(
            cohort=CohortSettings(min_age=18),
            temporal=TemporalDesign(
                train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
            ),
        )
        tic = time.perf_counter()
        models = fit_models(opened, design)
        log_training_run(
            models.risk_model,
            schema=feature_schema(design.feature_spec),
            design_json=design.to_json(),
            metrics={},
            reference=models.reference,
            register="bench",
            tracking_uri=uri,
        )
        print(f"trained and registered in {time.perf_counter() - tic:.0f} s")
    else:
        uri, model = args.tracking_uri, args.model

    day2 = dt.date.fromisoformat(args.as_of)
    day1 = (
        day2.replace(month=day2.month - 1)
        if day2.month > 1
        else day2.replace(year=day2.year - 1, month=12)
    )
    localities = tmp / "localities.csv"
    import pyarrow.compute as pc

    # Patients only (a read of every table would count in the peak RSS below).
    patients = opened.read(issued_from=day2, issued_before=day2).patients
    fte = max(patients.num_rows / 20_000 * 0.6, 0.1)
    names = sorted(
        v for v in pc.unique(patients["locality"]).to_pylist() if v is not None
    )
    localities.write_text(
        "locality,case_managers_fte,caseload_per_fte,reserve_share\n"
        + "".join(f"{n},{fte:.1f},50,0.15\n" for n in names)
    )
    settings = NightlySettings(
        model=model,
        tracking_uri=uri,
        localities=localities,
        engine=args.engine,
    )
    out = tmp / "out"
    for day in (day1, day2):
        marks: list[tuple[str, float, float]] = []
        tic = time.perf_counter()

        def progress(stage: str, marks=marks) -> None:
            marks.append((stage, time.perf_counter(), _rss_gb()))

        run = run_nightly(
            data, as_of=day, out=out, settings=settings, progress=progress
        )
        total = time.perf_counter() - tic
        print(f"\nnightly run {day}: {run.people:,} people, {total:.1f} s in all")
        ends = [m[1] for m in marks[1:]] + [tic + total]
        for (stage, start, rss), end in zip(marks, ends, strict=True):
            print(f"  {stage:<9} {end - start:7.2f} s   peak RSS so far {rss:5.2f} GB")
        print(f"  peak RSS {_rss_gb():.2f} GB")

    # Baseline: the same people scored by plain pandas + predict_proba.
    tic = time.perf_counter()
    loaded = load_model(model, tracking_uri=uri)
    feats = build_cohort(
        data, as_of=day2, spec=loaded.design.feature_spec, min_age=18, labels=False
    ).to_pandas()
    loaded.predict_proba(feats[feature_columns(loaded.design.feature_spec)])
    base = time.perf_counter() - tic
    print(
        f"\nbaseline (load model, features, predict_proba): {base:.1f} s; "
        f"nightly / baseline = {total / base:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
