"""Split the model-oracle gap: what the records hide and what the model leaves.

Usage::

    python benchmarks/oracle_gap.py --patients 200000 --seeds 0 1 2 --paths 64

For each population seed: train the calibrated LightGBM and the logistic
baseline (two stacked training years, as the validity test does), then on the
test year compare with two references —

- the **oracle**: each person's true risk from the generator (``--paths``
  simulated futures per person; 64 or more, decision 0009), the best any model
  could do with everything the generator knows;
- the **observable ceiling**: the true risk regressed on the observed features
  (LightGBM regression with a cross-entropy objective, 5-fold cross-fitted by
  person), the best prediction the records allow.

``oracle - ceiling`` is what the records cannot show; ``ceiling - lightgbm`` is
what the model leaves. Every difference has a paired bootstrap 95 % interval
(people resampled). LightGBM is said to beat logistic only where that interval
excludes zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd


def _auroc(y: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    return {k: roc_auc_score(y, v) for k, v in scores.items()}


def _ceiling(X: np.ndarray, risk: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold prediction of the true risk from the observed features."""
    import lightgbm as lgb
    from sklearn.model_selection import KFold

    out = np.empty(risk.size)
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(X):
        reg = lgb.LGBMRegressor(
            objective="cross_entropy",
            n_estimators=600,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=100,
            random_state=seed,
            verbose=-1,
        )
        reg.fit(X[tr], risk[tr])
        out[te] = reg.predict(X[te])
    return out


def one_seed(n: int, seed: int, paths: int, n_boot: int) -> pd.DataFrame:
    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        cohort_frame,
        fit_models,
    )
    from riskstrat.synth import make_population

    tic = time.perf_counter()
    pop = make_population(n, random_state=seed)
    t1 = dt.date(2022, 4, 1)
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2020, 4, 1), dt.date(2021, 4, 1)), test_as_of=t1
        ),
        random_state=seed,
    )
    models = fit_models(pop.tables, design)
    test = cohort_frame(pop.tables, as_of=t1, cohort=design.cohort)
    X = test[models.feature_columns]
    y = test["label"].to_numpy().astype(int)
    risk = (
        pop.truth.true_risk(t1, n_paths=paths)
        .to_pandas()
        .set_index("patient_id")["true_risk"]
        .reindex(test["patient_id"])
        .to_numpy()
    )
    M = models.risk_model.estimator.encoder_.transform(X)
    scores = {
        "oracle": risk,
        "ceiling": _ceiling(M, risk, seed),
        "lightgbm": models.risk_model.predict_proba(X)[:, 1],
        "logistic": models.logistic.predict_proba(X)[:, 1],
    }
    point = _auroc(y, scores)
    pairs = [
        ("oracle", "lightgbm"),
        ("oracle", "ceiling"),
        ("ceiling", "lightgbm"),
        ("lightgbm", "logistic"),
    ]
    rng = np.random.default_rng(seed)
    boot = {p: [] for p in pairs}
    for _ in range(n_boot):
        i = rng.integers(0, y.size, y.size)
        a = _auroc(y[i], {k: v[i] for k, v in scores.items()})
        for p in pairs:
            boot[p].append(a[p[0]] - a[p[1]])
    rows = [{"seed": seed, "what": k, "value": v} for k, v in point.items()]
    for p in pairs:
        lo, hi = np.quantile(boot[p], [0.025, 0.975])
        rows.append(
            {
                "seed": seed,
                "what": f"{p[0]} - {p[1]}",
                "value": point[p[0]] - point[p[1]],
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    print(
        f"seed {seed}: {n:,} people, {y.size:,} in the test year, "
        f"{time.perf_counter() - tic:.0f} s"
    )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--paths", type=int, default=64)
    ap.add_argument("--bootstraps", type=int, default=200)
    args = ap.parse_args(argv)
    out = pd.concat(
        [one_seed(args.patients, s, args.paths, args.bootstraps) for s in args.seeds]
    )
    with pd.option_context(
        "display.width", 120, "display.float_format", "{:.4f}".format
    ):
        print(out.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
