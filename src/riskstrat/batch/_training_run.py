"""One training run: fit under a design, evaluate on the test year, log, register.

This only composes stages: :func:`riskstrat.model.fit_models` (features, labels,
LightGBM + calibration + baselines, and the bed-days model), :func:`riskstrat.
report.evaluate` on the test year for every model, the bed-days model's figures
and the share of next-year bed days each ranking captures
(:func:`riskstrat.model.evaluate_bed_days`, :func:`riskstrat.model.
bed_day_capture`), the stale-score check (the model trained at T0 scoring later
years), and :func:`riskstrat.model.log_training_run`.
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
    BED_DAYS_SUFFIX,
    ModelDesign,
    TrainedModels,
    bed_day_capture,
    check_model_name,
    check_tracking_uri,
    check_trainable,
    cohort_frame,
    default_tracking_uri,
    evaluate_bed_days,
    fit_models,
    known_bed_days,
    known_labels,
    log_training_run,
    score,
    score_bed_days,
)
from riskstrat.report import compare, evaluate, evaluation_figures
from riskstrat.sources import open_tables

__all__ = ["TrainingRun", "run_training"]

logger = logging.getLogger(__name__)

#: Metrics of the test year logged to MLflow for each model.
_LOGGED = ("auroc", "auprc", "brier", "calibration_slope", "calibration_intercept")

#: Caseload sizes, as shares of the test cohort, at which the share of next-year
#: emergency bed days captured by each ranking is reported.
CAPTURE_SHARES = (0.01, 0.03, 0.05, 0.10)


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
        ``run_id``, ``model_uri``, ``version``, ``tracking_uri`` when logged
        (with the bed-days model: ``bed_days_model_uri``, ``bed_days_name``,
        ``bed_days_version``).
    seconds : dict of str to float
        Wall time of each step.
    bed_days : dict or None
        The bed-days model on the test year (:func:`evaluate_bed_days`):
        Tweedie deviance, Spearman, Gini, mean expected and observed.
    bed_days_calibration : DataFrame or None
        Mean expected and observed bed days by decile of expected bed days.
    bed_day_capture : DataFrame or None
        Share of next-year emergency bed days a caseload of each size would
        hold, ranking by risk, by expected bed days, by the seed's rules and
        by hindsight (:func:`bed_day_capture`), with ``share_of_cohort``.
    """

    models: TrainedModels
    evaluations: dict[str, Any]
    comparison: pd.DataFrame
    stale: pd.DataFrame
    n_test: int
    mlflow: dict[str, str | None] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    bed_days: dict[str, float] | None = None
    bed_days_calibration: pd.DataFrame | None = None
    bed_day_capture: pd.DataFrame | None = None


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
    bed_days: bool = True,
    capture_shares: Sequence[float] = CAPTURE_SHARES,
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
    bed_days : bool, default=True
        Also fit the bed-days model (:class:`riskstrat.model.BedDaysModel`) on
        the same training cohort, evaluate it on the test year, log its figures
        to the same run and, with ``register``, register it as
        ``register + "-bed-days"`` with the same ``alias``. False: risk only.
    capture_shares : sequence of float, default=(0.01, 0.03, 0.05, 0.10)
        Caseload sizes, as shares of the test cohort, for the bed-day capture.

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
        if register and bed_days:
            check_model_name(register + BED_DAYS_SUFFIX)
    bad = [x for x in capture_shares if not 0 < x <= 1]
    if bed_days and (bad or not capture_shares):
        raise ValueError(
            "The `capture_shares` parameter of run_training must hold shares in "
            f"(0, 1]. Got {list(capture_shares)!r} instead."
        )
    tables = open_tables(tables)
    horizon = design.temporal.horizon_days
    for day in (*design.temporal.train_as_of, design.temporal.test_as_of, *stale_as_of):
        check_label_window(tables, as_of=day, horizon_days=horizon)
    seconds: dict[str, float] = {}
    tic = time.perf_counter()
    models = fit_models(tables, design, engine=engine, bed_days=bed_days)
    seconds["fit_total"] = time.perf_counter() - tic
    seconds["fit_models"] = models.fit_seconds

    tic = time.perf_counter()
    test_raw = cohort_frame(
        tables,
        as_of=design.temporal.test_as_of,
        cohort=design.cohort,
        horizon_days=horizon,
        spec=design.feature_spec,
        engine=engine,
    )
    test = known_labels(test_raw, what="test year")
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
    beds: tuple[dict, pd.DataFrame, pd.DataFrame] | None = None
    if models.bed_days_model is not None:
        tic = time.perf_counter()
        beds = _bed_days_figures(models, test, capture_shares)
        seconds["evaluate_bed_days"] = time.perf_counter() - tic

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
        for key, value in models.enrolled.items():
            if key != "enrolments_known":
                metrics[f"training_{key}"] = float(value)
        summary = {f"evaluation_{k}": v for k, v in main.to_frames().items()}
        summary["comparison"] = comparison
        summary["stale_scores"] = stale
        if beds is not None:
            figures_bd, calibration_bd, capture = beds
            metrics.update({f"test_bed_days_{k}": v for k, v in figures_bd.items()})
            metrics["n_fit_bed_days"] = models.n_bed_days
            for row in capture.itertuples():
                pct = f"{100 * row.share_of_cohort:g}".replace(".", "_")
                metrics[f"test_bed_day_capture_{row.ranking}_{pct}pct"] = float(
                    row.share_captured
                )
            summary["bed_days_calibration"] = calibration_bd
            summary["bed_day_capture"] = capture
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
            bed_days_model=models.bed_days_model,
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
        bed_days=None if beds is None else beds[0],
        bed_days_calibration=None if beds is None else beds[1],
        bed_day_capture=None if beds is None else beds[2],
    )


def _bed_days_figures(
    models: TrainedModels, test: pd.DataFrame, shares: Sequence[float]
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The bed-days model on the test year, and what each ranking captures.

    People whose bed days are unknown are left out (with a warning); the
    rankings compare the same people, joined by key.
    """
    keys = ["patient_id", "as_of"]
    frame = known_bed_days(test, what="test year (bed days)")
    features = pa.Table.from_pandas(
        frame[keys + models.feature_columns], preserve_index=False
    )
    expected = score_bed_days(models.bed_days_model, features).to_pandas()
    frame = frame.merge(expected[[*keys, "expected_bed_days"]], on=keys, validate="1:1")
    model = models.bed_days_model
    figures, calibration = evaluate_bed_days(
        frame["label_bed_days"].to_numpy(),
        frame["expected_bed_days"].to_numpy(),
        power=getattr(model, "tweedie_variance_power", 1.5),
    )
    ids = frame["patient_id"].astype(str).tolist()
    n = len(ids)
    asked: dict[int, float] = {}
    for share in sorted(shares):
        asked.setdefault(max(1, round(share * n)), share)
    caps = sorted(asked)
    capture = bed_day_capture(
        pa.table(
            {
                "patient_id": ids,
                "emergency_bed_days": pa.array(
                    frame["label_bed_days"].round().astype("int64"), pa.int64()
                ),
            }
        ),
        scores=pa.table({"patient_id": ids, "risk": frame["lightgbm"].to_numpy()}),
        expected=pa.table(
            {"patient_id": ids, "expected_bed_days": frame["expected_bed_days"]}
        ),
        features=pa.table(
            {
                "patient_id": ids,
                "essex_priority": pa.array(
                    frame["essex_priority"].astype("Int64"), pa.int64()
                ),
            }
        ),
        capacity=caps,
    ).to_pandas()
    capture.insert(1, "share_of_cohort", capture["capacity"].map(asked))
    logger.info(
        "bed days, test year: %d people, Spearman %.3f, Gini %.3f; at %d people "
        "captured by risk %.1f %%, by expected bed days %.1f %%",
        n,
        figures["spearman"],
        figures["gini"],
        caps[-1],
        100 * capture.loc[capture["capacity"] == caps[-1], "share_captured"].iloc[0],
        100 * capture.loc[capture["capacity"] == caps[-1], "share_captured"].iloc[1],
    )
    return figures, calibration, capture


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
