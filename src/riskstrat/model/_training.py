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
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from riskstrat.model._baselines import LogisticBaseline, RulesScorer
from riskstrat.model._calibration import CalibratedRiskModel
from riskstrat.model._design import CohortSettings, ModelDesign
from riskstrat.model._risk_model import RiskModel

__all__ = ["TrainedModels", "cohort_frame", "fit_models"]

logger = logging.getLogger(__name__)

#: Label column used for each outcome of :class:`CohortSettings`.
LABEL_COLUMNS = {
    "emergency_admission": "emergency_admission",
    "composite": "composite",
}


def cohort_frame(
    tables,
    *,
    as_of: dt.date,
    cohort: CohortSettings,
    horizon_days: int = 365,
    spec=None,
    engine: Literal["duckdb", "spark"] = "duckdb",
    with_labels: bool = True,
) -> pd.DataFrame:
    """Features (and labels) of the cohort on ``as_of``, as one pandas frame.

    This is the model boundary: features are built by the feature engine as an
    Arrow table and turned into pandas here. Columns ``label`` (the cohort's
    outcome) and ``label_bed_days`` are added when ``with_labels``.
    """
    from riskstrat.features import build_features, make_labels

    feats = build_features(tables, as_of=as_of, spec=spec, engine=engine).to_pandas()
    keep = feats["age"] >= cohort.min_age
    if cohort.max_age is not None:
        keep &= feats["age"] <= cohort.max_age
    frame = feats[keep.to_numpy()].reset_index(drop=True)
    if not with_labels:
        return frame
    labels = make_labels(tables, as_of=as_of, horizon_days=horizon_days).to_pandas()
    labels = labels.set_index("patient_id")
    col = LABEL_COLUMNS[cohort.outcome]
    aligned = labels.reindex(frame["patient_id"].to_numpy())
    if aligned[col].isna().any():
        missing = frame["patient_id"][aligned[col].isna().to_numpy()].head(3).tolist()
        raise ValueError(
            f"make_labels gave no {col!r} for {int(aligned[col].isna().sum())} "
            f"cohort members (first: {missing})."
        )
    frame["label"] = aligned[col].astype(int).to_numpy()
    frame["label_bed_days"] = (
        aligned["emergency_bed_days"].fillna(0).astype(float).to_numpy()
    )
    return frame


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
    """

    risk_model: CalibratedRiskModel
    logistic: LogisticBaseline
    rules: RulesScorer
    design: ModelDesign
    feature_columns: list[str]
    n_fit: int
    n_calibration: int
    fit_seconds: float


NON_FEATURES = ("patient_id", "as_of", "label", "label_bed_days")


def fit_models(
    tables, design: ModelDesign, *, spec=None, engine="duckdb"
) -> TrainedModels:
    """Fit the risk model, its calibration and the baselines under ``design``.

    Training snapshots (``design.temporal.train_as_of``) are stacked. People are
    split by a stable hash of ``patient_id`` into a fitting share and a
    calibration share (``calibration_share``), so nobody's rows are on both
    sides.
    """
    frames = []
    for as_of in design.temporal.train_as_of:
        f = cohort_frame(
            tables,
            as_of=as_of,
            cohort=design.cohort,
            horizon_days=design.temporal.horizon_days,
            spec=spec,
            engine=engine,
        )
        frames.append(f)
    data = pd.concat(frames, ignore_index=True)
    cal = _calibration_mask(
        data["patient_id"], design.temporal.calibration_share, design.random_state
    )
    columns = [c for c in data.columns if c not in NON_FEATURES]
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
    return TrainedModels(
        risk_model=risk,
        logistic=logistic,
        rules=rules,
        design=design,
        feature_columns=columns,
        n_fit=int((~cal).sum()),
        n_calibration=int(cal.sum()),
        fit_seconds=seconds,
    )
