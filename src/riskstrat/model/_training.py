"""Temporal training: features as of the training dates, labels after them.

Composes :mod:`riskstrat.features` (tables in, tables out) with the estimators of
this stage. The cohort (alive and registered on ``as_of``, age range) is applied
here, from :class:`CohortSettings`; the model never decides who is in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from riskstrat._utils import warn_caller
from riskstrat.exceptions import DataQualityWarning
from riskstrat.features import FeatureSpec, build_cohort, feature_schema
from riskstrat.model._baselines import LogisticBaseline, RulesScorer
from riskstrat.model._calibration import CalibratedRiskModel
from riskstrat.model._design import CohortSettings, ModelDesign
from riskstrat.model._reference import reference_distribution
from riskstrat.model._risk_model import RiskModel

__all__ = [
    "LABEL_COLUMNS",
    "TrainedModels",
    "cohort_frame",
    "feature_columns",
    "fit_models",
    "known_labels",
]

logger = logging.getLogger(__name__)

#: Label column of the keyed cohort table used for each outcome of
#: :class:`CohortSettings`.
LABEL_COLUMNS = {
    "emergency_admission": "label_emergency_admission",
    "composite": "label_composite",
}


def cohort_frame(
    tables,
    *,
    as_of: dt.date,
    cohort: CohortSettings,
    horizon_days: int = 365,
    spec: FeatureSpec | None = None,
    engine: Literal["duckdb", "spark"] = "duckdb",
    with_labels: bool = True,
) -> pd.DataFrame:
    """Features (and labels) of the cohort on ``as_of``, as one pandas frame.

    This is the model boundary: :func:`riskstrat.features.build_cohort` joins
    features to labels on ``(patient_id, as_of)`` and applies the cohort's age
    range in SQL, on either engine; the keyed Arrow table is turned into pandas
    here. With labels, ``label`` is the cohort's outcome and ``label_bed_days``
    the emergency bed days in the horizon; both are missing (``<NA>``) where the
    source cannot tell (e.g. admissions of unknown urgency), never false or 0.
    """
    table = build_cohort(
        tables,
        as_of=as_of,
        spec=spec,
        min_age=cohort.min_age,
        max_age=cohort.max_age,
        labels=with_labels,
        horizon_days=horizon_days,
        engine=engine,
    )
    frame = table.to_pandas()
    if with_labels:
        frame["label"] = frame[LABEL_COLUMNS[cohort.outcome]].astype("boolean")
        frame["label_bed_days"] = frame["label_emergency_bed_days"].astype("Float64")
    return frame


def known_labels(frame: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Rows of ``frame`` whose label is known, with ``label`` as 0/1 ints.

    Rows with an unknown outcome (the source cannot tell, e.g. urgency not
    recorded) are left out and counted in a warning; if none is known, or only
    one class is, a :class:`ValueError` says so.
    """
    unknown = frame["label"].isna()
    if len(frame) and unknown.all():
        raise ValueError(
            f"{what}: the outcome is unknown for all {len(frame):,} people: the "
            "source cannot tell which admissions were emergencies (see the mapping "
            "report's 'emergency_admissions' line, or 'death' for the composite "
            "outcome). A model cannot be trained or evaluated without known "
            "outcomes; give the admission method or --inpatient-urgency if your "
            "source codes every emergency."
        )
    if unknown.any():
        warn_caller(
            f"{what}: the outcome is unknown for {int(unknown.sum()):,} of "
            f"{len(frame):,} people; they are left out.",
            DataQualityWarning,
        )
    out = frame[~unknown.to_numpy()].reset_index(drop=True)
    out["label"] = out["label"].astype(int)
    return out


#: The smallest training set :func:`fit_models` accepts: people, and people
#: with and without the outcome. Below these the trees, the calibration and
#: every metric are noise.
MIN_PEOPLE = 200
MIN_PER_CLASS = 20


def check_trainable(y: np.ndarray, *, what: str) -> None:
    """Refuse a cohort too small, or too one-sided, to fit or evaluate a model.

    Raises
    ------
    ValueError
        Naming how many people and events there are and what is needed.
    """
    n, events = len(y), int(np.sum(y))
    if n < MIN_PEOPLE or min(events, n - events) < MIN_PER_CLASS:
        raise ValueError(
            f"{what}: {n:,} people of whom {events:,} had the outcome is too small "
            f"to fit or judge a risk model (need at least {MIN_PEOPLE} people and "
            f"{MIN_PER_CLASS} with and {MIN_PER_CLASS} without the outcome). Use a "
            "larger population, more training dates or a wider cohort."
        )


def _calibration_mask(ids: pd.Series, share: float, seed: int) -> np.ndarray:
    """Stable per-patient split: the same person is always on the same side."""
    salt = str(seed).encode()
    h = np.array(
        [
            int.from_bytes(hashlib.blake2b(salt + i.encode(), digest_size=8).digest())
            for i in ids.astype(str)
        ],
        dtype=np.uint64,
    )
    return (h % np.uint64(10_000)).astype(np.int64) < round(share * 10_000)


@dataclass(frozen=True)
class TrainedModels:
    """The models fitted under one design, ready to score and compare.

    Attributes
    ----------
    risk_model : CalibratedRiskModel
        LightGBM fitted on the fitting share, calibrated on the held-out share.
    logistic : LogisticBaseline
    rules : RulesScorer
    design : ModelDesign
    feature_columns : list of str
        Model inputs (identifiers and labels excluded).
    n_fit, n_calibration : int
        Rows used to fit and to calibrate.
    fit_seconds : float
    reference : dict
        The training distribution of every feature and of the calibrated risk
        (aggregates only, :func:`reference_distribution`), saved with the model
        so scoring runs can measure drift.
    """

    risk_model: CalibratedRiskModel
    logistic: LogisticBaseline
    rules: RulesScorer
    design: ModelDesign
    feature_columns: list[str]
    n_fit: int
    n_calibration: int
    fit_seconds: float
    reference: dict = field(default_factory=dict)


def feature_columns(spec: FeatureSpec) -> list[str]:
    """Model inputs under ``spec``: the feature table's columns but the key."""
    return [n for n in feature_schema(spec).names if n not in ("patient_id", "as_of")]


def fit_models(tables, design: ModelDesign, *, engine="duckdb") -> TrainedModels:
    """Fit the risk model, its calibration and the baselines under ``design``.

    Features are built with ``design.feature_spec``. Training snapshots
    (``design.temporal.train_as_of``) are stacked. People are split by a stable
    hash of ``patient_id`` into a fitting share and a calibration share
    (``calibration_share``), so nobody's rows are on both sides. People whose
    outcome is unknown are left out (with a warning).
    """
    frames = []
    for as_of in design.temporal.train_as_of:
        f = cohort_frame(
            tables,
            as_of=as_of,
            cohort=design.cohort,
            horizon_days=design.temporal.horizon_days,
            spec=design.feature_spec,
            engine=engine,
        )
        frames.append(f)
    data = known_labels(pd.concat(frames, ignore_index=True), what="training")
    check_trainable(data["label"].to_numpy(), what="training")
    cal = _calibration_mask(
        data["patient_id"], design.temporal.calibration_share, design.random_state
    )
    columns = feature_columns(design.feature_spec)
    X, y = data[columns], data["label"].to_numpy()
    tic = time.perf_counter()
    params = {"random_state": design.random_state, **design.model_params}
    ids = data["patient_id"].to_numpy()[~cal]
    base = RiskModel(**params).fit(X[~cal], y[~cal], groups=ids)
    risk = CalibratedRiskModel(base, method=design.calibration).fit(X[cal], y[cal])
    seconds = time.perf_counter() - tic
    logistic = LogisticBaseline().fit(X[~cal], y[~cal])
    rules = RulesScorer().fit(X[~cal], y[~cal])
    logger.info(
        "trained on %d rows (%d held out for calibration), %d features, in %.1f s",
        int((~cal).sum()),
        int(cal.sum()),
        len(columns),
        seconds,
    )
    fitted = X[~cal]
    reference = reference_distribution(
        fitted, columns, risk.predict_proba(fitted)[:, 1]
    )
    return TrainedModels(
        reference=reference,
        risk_model=risk,
        logistic=logistic,
        rules=rules,
        design=design,
        feature_columns=columns,
        n_fit=int((~cal).sum()),
        n_calibration=int(cal.sum()),
        fit_seconds=seconds,
    )
