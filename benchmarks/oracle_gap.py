"""Split the model-oracle gap: what the records hide and what the model leaves.

Usage::

    python benchmarks/oracle_gap.py --patients 200000 --seeds 0 1 2 --paths 64

For each population seed: train the calibrated LightGBM and the logistic
baseline (two stacked training years, 2020 and 2021; the suite's validity test
uses one, at 30k), then on the test year (from 2022-04-01) compare with two
references —

- the **oracle**: each person's true risk from the generator (``--paths``
  simulated futures per person; 64 or more, decision 0009), the best any model
  could do with everything the generator knows;
- the **observable ceiling**: the true risk regressed on the observed features
  (:func:`riskstrat.synth.observable_ceiling`: LightGBM regression with a
  cross-entropy objective, 5-fold cross-fitted by person), the best
  prediction the records allow.

``oracle - ceiling`` is what the records cannot show; ``ceiling - lightgbm`` is
what the model leaves. Every AUROC and difference has a paired bootstrap 95 % interval
(:func:`riskstrat.synth.auroc_table`, people resampled). LightGBM is said to
beat logistic only where that interval excludes zero. The oracle is simulated
for the test cohort only; ``oracle_extrapolated`` removes its remaining path
noise from the two halves of the paths (Richardson, decision 0009).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import pandas as pd


def one_seed(n: int, seed: int, paths: int, n_boot: int) -> pd.DataFrame:
    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        cohort_frame,
        fit_models,
        known_labels,
    )
    from riskstrat.synth import auroc_table, make_population, observable_ceiling

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
    test = known_labels(
        cohort_frame(pop.tables, as_of=t1, cohort=design.cohort), what="test year"
    )
    X = test[models.feature_columns]
    y = test["label"].to_numpy().astype(int)
    # The oracle only for the test cohort; both halves of the paths are kept
    # so the table can also extrapolate the path noise away.
    truth = (
        pop.truth.true_risk(
            t1, n_paths=paths, patient_ids=test["patient_id"].tolist(), halves=True
        )
        .to_pandas()
        .set_index("patient_id")
        .reindex(test["patient_id"])
    )
    M = models.risk_model.estimator.encoder_.transform(X)
    scores = {
        "oracle": truth["true_risk"].to_numpy(),
        "oracle_extrapolated": truth[
            ["true_risk_half_1", "true_risk_half_2"]
        ].to_numpy(),
        "ceiling": observable_ceiling(
            M, truth["true_risk"].to_numpy(), random_state=seed
        ),
        "lightgbm": models.risk_model.predict_proba(X)[:, 1],
        "logistic": models.logistic.predict_proba(X)[:, 1],
    }
    pairs = [
        ("oracle", "lightgbm"),
        ("oracle", "ceiling"),
        ("ceiling", "lightgbm"),
        ("lightgbm", "logistic"),
    ]
    out = auroc_table(y, scores, pairs, n_bootstraps=n_boot, random_state=seed)
    out.insert(0, "seed", seed)
    print(
        f"seed {seed}: {n:,} people, {y.size:,} in the test year, "
        f"{int(y.sum()):,} admitted, {time.perf_counter() - tic:.0f} s",
        flush=True,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--paths", type=int, default=64)
    ap.add_argument("--bootstraps", type=int, default=200)
    args = ap.parse_args(argv)
    frames = []
    for s in args.seeds:
        frames.append(one_seed(args.patients, s, args.paths, args.bootstraps))
        with pd.option_context(
            "display.width", 120, "display.float_format", "{:.4f}".format
        ):
            print(frames[-1].to_string(index=False), flush=True)
    out = pd.concat(frames)
    if len(frames) > 1:
        summary = out.groupby("what", sort=False)["auroc"].agg(["mean", "min", "max"])
        with pd.option_context(
            "display.width", 120, "display.float_format", "{:.4f}".format
        ):
            print(summary.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
