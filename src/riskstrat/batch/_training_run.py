"""One training run: fit under a design, evaluate on the test year, log, register.

This only composes stages: :func:`riskstrat.model.fit_models` (features, labels,
LightGBM + calibration + baselines), :func:`riskstrat.report.evaluate` on the
test year for every model, the stale-score check (the model trained at T0
scoring later years), and :func:`riskstrat.model.log_training_run`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat._utils import evaluation_groups
from riskstrat.features import check_label_window, feature_schema
from riskstrat.model import (
    ModelDesign,
    TrainedModels,
    check_model_name,
    check_tracking_uri,
    check_trainable,
    cohort_frame,
    default_tracking_uri,
    fit_models,
    known_labels,
    log_training_run,
    score,
)
from riskstrat.report import compare, evaluate, evaluation_figures
from riskstrat.sources import open_tables

__all__ = ["TrainingRun", "run_training"]

logger = logging.getLogger(__name__)

#: Metrics of the test year logged to MLflow for each model.
_LOGGED = ("auroc", "auprc", "brier", "calibration_slope", "calibration_intercept")


@dataclass(frozen=True)
class TrainingRun:
    """What one training run produced.

    Attributes
    ----------
    models : TrainedModels
    evaluations : dict of str to Evaluation
        Test-year evaluation of each model (``lightgbm``, ``logistic``,
        ``rules`` and, on synthetic data, ``oracle``).
    comparison : DataFrame
        One row per model: the key test-year metrics side by side.
    stale : DataFrame
        The LightGBM model trained at the design's dates scoring each later
        date: AUROC with CI, calibration slope and O/E, years since training.
    n_test : int
    mlflow : dict or None
        ``run_id``, ``model_uri``, ``version``, ``tracking_uri`` when logged.
    seconds : dict of str to float
        Wall time of each step.
    """

    models: TrainedModels
    evaluations: dict[str, Any]
    comparison: pd.DataFrame
    stale: pd.DataFrame
    n_test: int
    mlflow: dict[str, str | None] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _scored(
    models: TrainedModels, frame: pd.DataFrame, truth, as_of, oracle_paths: int
) -> pd.DataFrame:
    """``frame`` (keys, labels, groups) with one score column per model.

    Every model's scores come back as a table keyed by ``(patient_id, as_of)``
    and are joined to the labels on that key (one to one), never by position.
    """
    keys = ["patient_id", "as_of"]
    features = pa.Table.from_pandas(
        frame[keys + models.feature_columns], preserve_index=False
    )
    out = frame
    for name, model in (
        ("lightgbm", models.risk_model),
        ("logistic", models.logistic),
        ("rules", models.rules),
    ):
        s = score(model, features, name=name).to_pandas()[[*keys, "risk"]]
        out = out.merge(s.rename(columns={"risk": name}), on=keys, validate="1:1")
    if truth is not None:  # the truth is keyed by patient_id (one date)
        true = truth.true_risk(as_of, n_paths=oracle_paths).to_pandas()
        out = out.merge(
            true.rename(columns={"true_risk": "oracle"}),
            on="patient_id",
            how="left",
            validate="1:1",
        )
        if out["oracle"].isna().any():
            raise ValueError(
                f"The truth gives no true risk for {int(out['oracle'].isna().sum())} "
                f"people of the cohort on {as_of}; is it the same population?"
            )
    return out


def run_training(
    tables,
    design: ModelDesign,
    *,
    truth=None,
    stale_as_of: Sequence[dt.date] = (),
    log: bool = True,
    register: str | None = None,
    alias: str = "champion",
    tracking_uri: str | None = None,
    run_name: str | None = None,
    n_bootstraps: int = 200,
    oracle_paths: int = 64,
    engine: Literal["duckdb", "spark"] = "duckdb",
) -> TrainingRun:
    """Fit, evaluate on the test year, check stale scores, log and register.

    Parameters
    ----------
    tables : Tables or path-like
        Canonical tables (``load_tables`` or ``make_population(...).tables``), or
        a folder as :func:`riskstrat.features.build_features` takes it (a folder
        of validated tables is then read at each date, never held whole).
    design : ModelDesign
        Cohort, training and test dates, model settings.
    truth : Truth, optional
        The synthetic population's truth; adds the oracle to the comparison.
    stale_as_of : sequence of datetime.date, default=()
        Later dates the trained model also scores (labels must be complete).
    log : bool, default=True
        Log the run to MLflow.
    register : str, optional
        Register the model under this name with ``alias``.
    alias : str, default="champion"
    tracking_uri : str, optional
        MLflow store; default ``MLFLOW_TRACKING_URI`` or ``models/mlflow.db``.
    run_name : str, optional
    n_bootstraps : int, default=200
        Bootstrap resamples for confidence intervals (seeded by the design).
    oracle_paths : int, default=64
        Simulated futures per person for the oracle's true risk (with
        ``truth``). Path noise makes the oracle read low: at 8 paths its
        AUROC was ~0.002 under the exact value (issue 13), about 15 % of the
        model-oracle gap; use 64 or more for validity figures.
    engine : {"duckdb", "spark"}, default="duckdb"

    Returns
    -------
    TrainingRun
    """
    if register is not None and not log:
        raise ValueError("`register` needs `log=True`: a registered model is a run.")
    # Cheap checks first: nothing is fitted when a later step would fail.
    if log:
        tracking_uri = check_tracking_uri(tracking_uri or default_tracking_uri())
        check_model_name(register, alias if register else None)
    tables = open_tables(tables)
    horizon = design.temporal.horizon_days
    for day in (*design.temporal.train_as_of, design.temporal.test_as_of, *stale_as_of):
        check_label_window(tables, as_of=day, horizon_days=horizon)
    seconds: dict[str, float] = {}
    tic = time.perf_counter()
    models = fit_models(tables, design, engine=engine)
    seconds["fit_total"] = time.perf_counter() - tic
    seconds["fit_models"] = models.fit_seconds

    tic = time.perf_counter()
    test = known_labels(
        cohort_frame(
            tables,
            as_of=design.temporal.test_as_of,
            cohort=design.cohort,
            horizon_days=horizon,
            spec=design.feature_spec,
            engine=engine,
        ),
        what="test year",
    )
    check_trainable(test["label"].to_numpy(), what="test year")
    test = _scored(models, test, truth, design.temporal.test_as_of, oracle_paths)
    y = test["label"].to_numpy()
    groups = evaluation_groups(test)
    bed_days = test["label_bed_days"].to_numpy(dtype=float, na_value=np.nan)
    names = ["lightgbm", "logistic", "rules"] + (["oracle"] if truth else [])
    evaluations = {
        name: evaluate(
            y,
            test[name].to_numpy(),
            groups=groups,
            bed_days=bed_days,
            n_bootstraps=n_bootstraps,
            random_state=design.random_state,
        )
        for name in names
    }
    comparison = compare(evaluations)
    seconds["evaluate"] = time.perf_counter() - tic

    tic = time.perf_counter()
    stale = _stale_table(
        tables, models, design, stale_as_of, n_bootstraps, engine, evaluations
    )
    seconds["stale"] = time.perf_counter() - tic
    logger.info(
        "test year %s: %d people; %s",
        design.temporal.test_as_of,
        len(test),
        ", ".join(
            f"{name} AUROC {ev.metric('auroc'):.3f}" for name, ev in evaluations.items()
        ),
    )

    info = None
    if log:
        tic = time.perf_counter()
        main = evaluations["lightgbm"]
        metrics = {
            f"test_{m}_{name}": ev.metric(m)
            for name, ev in evaluations.items()
            for m in _LOGGED
        }
        metrics.update({f"test_{m}": main.metric(m) for m in _LOGGED})
        metrics["n_fit"] = models.n_fit
        metrics["n_calibration"] = models.n_calibration
        metrics["n_test"] = len(test)
        metrics["fit_seconds"] = models.fit_seconds
        for row in stale.itertuples():
            metrics[f"stale_auroc_{row.years_since_training:g}y"] = row.auroc
        summary = {f"evaluation_{k}": v for k, v in main.to_frames().items()}
        summary["comparison"] = comparison
        summary["stale_scores"] = stale
        info = log_training_run(
            models.risk_model,
            schema=feature_schema(design.feature_spec),
            design_json=design.to_json(),
            metrics=metrics,
            reference=models.reference,
            tables=summary,
            figures=evaluation_figures(main, name="lightgbm"),
            register=register,
            alias=alias,
            tracking_uri=tracking_uri,
            run_name=run_name,
        )
        seconds["log"] = time.perf_counter() - tic
    return TrainingRun(
        models=models,
        evaluations=evaluations,
        comparison=comparison,
        stale=stale,
        n_test=len(test),
        mlflow=info,
        seconds=seconds,
    )


def _stale_table(
    tables, models, design, stale_as_of, n_bootstraps, engine, evaluations
) -> pd.DataFrame:
    trained = max(design.temporal.train_as_of)
    rows = []
    for day in sorted({design.temporal.test_as_of, *stale_as_of}):
        if day == design.temporal.test_as_of:  # evaluated already
            ev = evaluations["lightgbm"]
            n = int(ev.metric("n"))
        else:
            frame = known_labels(
                cohort_frame(
                    tables,
                    as_of=day,
                    cohort=design.cohort,
                    horizon_days=design.temporal.horizon_days,
                    spec=design.feature_spec,
                    engine=engine,
                ),
                what=f"stale scores {day}",
            )
            frame = _scored(models, frame, None, day, 0)
            ev = evaluate(
                frame["label"].to_numpy(),
                frame["lightgbm"].to_numpy(),
                n_bootstraps=n_bootstraps,
                random_state=design.random_state,
            )
            n = len(frame)
        auroc = ev.overall.set_index("metric").loc["auroc"]
        rows.append(
            {
                "scored_as_of": day.isoformat(),
                "years_since_training": round((day - trained).days / 365.25, 1),
                "n": n,
                "auroc": float(auroc["estimate"]),
                "auroc_ci_low": float(auroc["ci_low"]),
                "auroc_ci_high": float(auroc["ci_high"]),
                "calibration_slope": ev.metric("calibration_slope"),
                "observed_expected": ev.metric("observed_expected"),
            }
        )
    return pd.DataFrame(rows)
