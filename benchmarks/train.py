"""Benchmark model training at scale: features, LightGBM fit, calibration, scoring.

Usage::

    python benchmarks/train.py --patients 1000000     # generate, then train
    python benchmarks/train.py --data DIR --oracle    # an existing synthetic folder

Times each step of :func:`riskstrat.model.fit_models` (features and labels as of
the training date, LightGBM with early stopping and refit, sigmoid calibration,
logistic and rules baselines), then scores the test year and prints AUROC,
calibration slope and, with ``--oracle``, the oracle's AUROC from the synthetic
truth. The reference in the same run is scikit-learn's
``HistGradientBoostingClassifier`` fitted on the same matrix with the same tree
budget (a plain, well-optimised baseline). Peak RSS is the process's
``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import time
from pathlib import Path


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=None, help="synthetic Parquet folder")
    ap.add_argument("--train-as-of", default="2021-04-01")
    ap.add_argument("--test-as-of", default="2022-04-01")
    ap.add_argument("--oracle", action="store_true", help="also the oracle's AUROC")
    ap.add_argument("--oracle-paths", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="  %(message)s")
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        cohort_frame,
        fit_models,
        known_labels,
    )
    from riskstrat.report import evaluate
    from riskstrat.sources import load_tables
    from riskstrat.synth import Truth, make_population

    t0 = dt.date.fromisoformat(args.train_as_of)
    t1 = dt.date.fromisoformat(args.test_as_of)
    tic = time.perf_counter()
    if args.data is None:
        pop = make_population(args.patients, random_state=args.seed)
        tables, truth = pop.tables, pop.truth
        how = f"generated {args.patients:,} people"
    else:
        truth = Truth.from_json((args.data / "truth.json").read_text())
        tables = load_tables(args.data, extract_date=truth.end)
        how = f"loaded {args.data}"
    print(f"{how} in {time.perf_counter() - tic:.1f} s")

    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(train_as_of=(t0,), test_as_of=t1),
        random_state=args.seed,
    )
    rss_before = _rss_gb()
    tic = time.perf_counter()
    models = fit_models(tables, design)
    total = time.perf_counter() - tic
    print(
        f"fit_models: {total:.1f} s in all (features + labels + fits); "
        f"LightGBM + calibration {models.fit_seconds:.1f} s on {models.n_fit:,} + "
        f"{models.n_calibration:,} rows x {len(models.feature_columns)} features; "
        f"{models.risk_model.estimator.best_iteration_} trees"
    )

    tic = time.perf_counter()
    test = known_labels(
        cohort_frame(tables, as_of=t1, cohort=design.cohort), what="test"
    )
    X = test[models.feature_columns]
    p = models.risk_model.predict_proba(X)[:, 1]
    score_s = time.perf_counter() - tic
    ev = evaluate(test["label"].to_numpy(), p, n_bootstraps=0)
    print(
        f"test year {t1}: {len(test):,} people scored in {score_s:.1f} s "
        f"(incl. features); AUROC {ev.metric('auroc'):.4f}, "
        f"calibration slope {ev.metric('calibration_slope'):.3f}, "
        f"intercept {ev.metric('calibration_intercept'):.3f}"
    )
    if args.oracle:
        tic = time.perf_counter()
        risk = truth.true_risk(t1, n_paths=args.oracle_paths).to_pandas()
        q = (
            risk.set_index("patient_id")["true_risk"]
            .reindex(test["patient_id"])
            .to_numpy()
        )
        oracle = evaluate(test["label"].to_numpy(), q, n_bootstraps=0)
        print(
            f"oracle AUROC {oracle.metric('auroc'):.4f} "
            f"(gap {oracle.metric('auroc') - ev.metric('auroc'):.4f}; "
            f"true risk in {time.perf_counter() - tic:.0f} s)"
        )
    peak = _rss_gb()

    # Reference: scikit-learn's histogram GBM on the same numeric matrix.
    train = known_labels(
        cohort_frame(tables, as_of=t0, cohort=design.cohort), what="train"
    )
    enc = models.risk_model.estimator.encoder_
    M = enc.transform(train[models.feature_columns])
    y = train["label"].to_numpy()
    trees = models.risk_model.estimator.best_iteration_
    ref = HistGradientBoostingClassifier(
        learning_rate=0.03,
        max_iter=trees,
        max_depth=5,
        max_leaf_nodes=15,
        min_samples_leaf=200,
        l2_regularization=5.0,
        early_stopping=False,
        random_state=args.seed,
    )
    tic = time.perf_counter()
    ref.fit(np.nan_to_num(M, nan=np.nan), y)
    ref_s = time.perf_counter() - tic
    print(
        f"reference HistGradientBoosting fit ({trees} trees, {M.shape[0]:,} rows): "
        f"{ref_s:.1f} s; LightGBM fit+refit+calibration / reference = "
        f"{models.fit_seconds / ref_s:.2f}"
    )
    print(
        f"peak RSS: {peak:.2f} GB (after loading the data: {rss_before:.2f} GB; "
        f"with the reference: {_rss_gb():.2f} GB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
