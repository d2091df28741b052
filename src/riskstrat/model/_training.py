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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from riskstrat._utils import warn_caller
from riskstrat.exceptions import DataQualityWarning
from riskstrat.features import (
    FeatureSpec,
    build_cohort,
    enrolment_time,
    feature_schema,
)
from riskstrat.model._base import SHARED_LIGHTGBM_PARAMS
from riskstrat.model._baselines import LogisticBaseline, RulesScorer
from riskstrat.model._bed_days import BedDaysModel
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
    "known_bed_days",
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
    return _known(
        frame,
        "label",
        int,
        none_known=f"{what}: the outcome is unknown for all {len(frame):,} people: "
        "the source cannot tell which admissions were emergencies (see the mapping "
        "report's 'emergency_admissions' line, or 'death' for the composite "
        "outcome). A model cannot be trained or evaluated without known "
        "outcomes; give the admission method or --inpatient-urgency if your "
        "source codes every emergency.",
        some_unknown=lambda n: (
            f"{what}: the outcome is unknown for {n:,} of "
            f"{len(frame):,} people; they are left out."
        ),
    )


def known_bed_days(frame: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Rows of ``frame`` whose next-year emergency bed days are known.

    As :func:`known_labels` does for the outcome: a person whose window holds an
    admission of unknown urgency has unknown bed days; they are left out and
    counted in a warning, never taken as 0.
    """
    return _known(
        frame,
        "label_bed_days",
        float,
        none_known=f"{what}: emergency bed days are unknown for all {len(frame):,} "
        "people (the source cannot tell which admissions were emergencies); a "
        "bed-days model cannot be trained or evaluated. Use bed_days=False "
        "(--no-bed-days) or give the admission method.",
        some_unknown=lambda n: (
            f"{what}: emergency bed days are unknown for {n:,} "
            f"of {len(frame):,} people; they are left out of the bed-days model."
        ),
    )


def _known(
    frame: pd.DataFrame,
    column: str,
    dtype: type,
    *,
    none_known: str,
    some_unknown: Callable[[int], str],
) -> pd.DataFrame:
    """Rows whose ``column`` is known, cast to ``dtype``; unknown ones counted.

    None known: ``ValueError(none_known)``; some unknown: a
    :class:`DataQualityWarning` saying ``some_unknown(number unknown)``.
    """
    unknown = frame[column].isna()
    if len(frame) and unknown.all():
        raise ValueError(none_known)
    if unknown.any():
        warn_caller(some_unknown(int(unknown.sum())), DataQualityWarning)
    out = frame[~unknown.to_numpy()].reset_index(drop=True)
    out[column] = out[column].astype(dtype)
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
    bed_days_model : BedDaysModel or None
        Expected emergency bed days, fitted on the same cohort (every training
        row whose bed days are known); None when not asked for.
    n_bed_days : int
        Rows the bed-days model was fitted on.
    enrolled : dict
        How person-time under case management was handled
        (``design.enrolled_time``): ``left_out_enrolled`` (rows of people
        enrolled on a training date), ``censored`` (label windows cut at an
        enrolment), ``censored_without_event`` (of those, no event before the
        enrolment: their outcome was imputed), ``imputed_events`` (the sum of
        the imputed probabilities), ``enrolments_known`` (False when the source
        has no enrolments table).
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
    bed_days_model: BedDaysModel | None = None
    n_bed_days: int = 0
    enrolled: dict = field(default_factory=dict)


def feature_columns(spec: FeatureSpec) -> list[str]:
    """Model inputs under ``spec``: the feature table's columns but the key."""
    return [n for n in feature_schema(spec).names if n not in ("patient_id", "as_of")]


def _enrolled_time(
    frame: pd.DataFrame, tables, as_of: dt.date, horizon: int, engine
) -> tuple[pd.DataFrame, dict]:
    """Leave out people enrolled on ``as_of``; mark label windows cut by enrolment.

    Adds ``_observed`` (share of the window before the enrolment, 1.0 when
    none), ``_censored`` (an enrolment in the window and no emergency admission
    before it: the outcome after the enrolment is treated, so unknown) and
    ``_bed_days_before`` (emergency bed days before the enrolment).
    """
    time = enrolment_time(tables, as_of=as_of, horizon_days=horizon, engine=engine)
    if time is None:
        frame = frame.assign(_observed=1.0, _censored=False, _bed_days_before=np.nan)
        return frame, {"enrolments_known": False, "left_out_enrolled": 0}
    t = time.to_pandas()
    t["as_of"] = pd.to_datetime(t["as_of"]).dt.date
    merged = frame.merge(t, on=["patient_id", "as_of"], how="left", validate="1:1")
    enrolled = merged["enrolled_on_as_of"].fillna(False).to_numpy(dtype=bool)
    merged = merged[~enrolled].reset_index(drop=True)
    enrol = pd.to_datetime(merged["enrol_date"])
    first = pd.to_datetime(merged["first_emergency_date"])
    start = pd.Timestamp(as_of)
    cut = enrol.notna().to_numpy()
    observed = np.ones(len(merged))
    observed[cut] = ((enrol[cut] - start).dt.days / horizon).to_numpy()
    event_before = (first.notna() & enrol.notna() & (first < enrol)).to_numpy()
    merged["_observed"] = observed
    merged["_censored"] = cut & ~event_before
    merged["_bed_days_before"] = merged["bed_days_before_enrolment"].astype(float)
    merged = merged.drop(
        columns=[
            "enrolled_on_as_of",
            "enrol_date",
            "first_emergency_date",
            "bed_days_before_enrolment",
        ]
    )
    return merged, {"enrolments_known": True, "left_out_enrolled": int(enrolled.sum())}


def _impute_censored(
    data: pd.DataFrame, columns: list[str], params: dict
) -> tuple[pd.DataFrame, dict]:
    """Split each censored row into an event and a non-event, weighted.

    A first LightGBM fit on the rows whose outcome is fully known gives each
    censored person a one-year risk ``p``; under a constant hazard the chance of
    an event in the untreated rest of the window is ``q = 1 - (1 - p)^(1 - s)``,
    ``s`` the share observed before the enrolment. The row becomes an event of
    weight ``q`` and a non-event of weight ``1 - q``.
    """
    censored = data["_censored"].to_numpy(dtype=bool)
    data = data.assign(_weight=1.0)
    info = {"censored_without_event": int(censored.sum()), "imputed_events": 0.0}
    if not censored.any():
        return data, info
    known = data[~censored]
    first = RiskModel(**params).fit(
        known[columns],
        known["label"].to_numpy(),
        groups=known["patient_id"].to_numpy(),
    )
    cens = data[censored]
    p = first.predict_proba(cens[columns])[:, 1]
    q = 1.0 - (1.0 - p) ** (1.0 - cens["_observed"].to_numpy())
    info["imputed_events"] = float(q.sum())
    out = pd.concat(
        [
            known,
            cens.assign(label=1, _weight=q),
            cens.assign(label=0, _weight=1.0 - q),
        ],
        ignore_index=True,
    )
    return out, info


def _bed_days_target(
    data: pd.DataFrame, columns: list[str], params: dict
) -> np.ndarray:
    """Bed days with the treated part of a window replaced by its imputation.

    For a window cut by an enrolment: the bed days of spells admitted before
    the enrolment, plus the untreated rest, ``(1 - s) * mu``, ``mu`` the
    expected yearly bed days from a first fit on windows no enrolment cut.
    """
    y = data["label_bed_days"].to_numpy(dtype=float).copy()
    cut = data["_observed"].to_numpy() < 1.0
    if not cut.any():
        return y
    whole = data[~cut]
    first = BedDaysModel(**params).fit(
        whole[columns],
        whole["label_bed_days"].to_numpy(dtype=float),
        groups=whole["patient_id"].to_numpy(),
    )
    rest = 1.0 - data["_observed"].to_numpy()[cut]
    y[cut] = data["_bed_days_before"].to_numpy()[cut] + rest * first.predict(
        data[columns][cut]
    )
    return y


def bed_days_params(design: ModelDesign) -> dict:
    """``BedDaysModel`` parameters of ``design``: shared ones, then its own."""
    shared = {
        k: v for k, v in design.model_params.items() if k in SHARED_LIGHTGBM_PARAMS
    }
    return {"random_state": design.random_state, **shared, **design.bed_days_params}


def fit_models(
    tables, design: ModelDesign, *, engine="duckdb", bed_days: bool = False
) -> TrainedModels:
    """Fit the risk model, its calibration and the baselines under ``design``.

    Features are built with ``design.feature_spec``. Training snapshots
    (``design.temporal.train_as_of``) are stacked. People are split by a stable
    hash of ``patient_id`` into a fitting share and a calibration share
    (``calibration_share``), so nobody's rows are on both sides. People whose
    outcome is unknown are left out (with a warning). Person-time under case
    management is handled as ``design.enrolled_time`` says (decision 0017).
    With ``bed_days``, a :class:`BedDaysModel` is fitted too, on every training
    row whose bed days are known (its label: emergency bed days in the horizon).
    """
    frames = []
    enrolled = {"left_out_enrolled": 0, "enrolments_known": True}
    horizon = design.temporal.horizon_days
    for as_of in design.temporal.train_as_of:
        f = cohort_frame(
            tables,
            as_of=as_of,
            cohort=design.cohort,
            horizon_days=horizon,
            spec=design.feature_spec,
            engine=engine,
        )
        if design.enrolled_time == "censor":
            f, info = _enrolled_time(f, tables, as_of, horizon, engine)
            enrolled["left_out_enrolled"] += info["left_out_enrolled"]
            enrolled["enrolments_known"] &= info["enrolments_known"]
        else:
            f = f.assign(_observed=1.0, _censored=False, _bed_days_before=np.nan)
        frames.append(f)
    raw = pd.concat(frames, ignore_index=True)
    data = known_labels(raw, what="training")
    check_trainable(data["label"].to_numpy(), what="training")
    columns = feature_columns(design.feature_spec)
    params = {"random_state": design.random_state, **design.model_params}
    enrolled["censored"] = int((data["_observed"] < 1.0).sum())
    tic = time.perf_counter()
    rows, info = _impute_censored(data, columns, params)
    enrolled.update(info)
    if design.enrolled_time == "censor" and not enrolled["enrolments_known"]:
        logger.info(
            "training: the source has no enrolments table, so no person-time "
            "under case management could be left out"
        )
    elif design.enrolled_time == "censor":
        logger.info(
            "training: %d rows of people enrolled on a training date left out; "
            "%d label windows censored at enrolment (%d without an event before "
            "it, %.1f events imputed)",
            enrolled["left_out_enrolled"],
            enrolled["censored"],
            enrolled["censored_without_event"],
            enrolled["imputed_events"],
        )
    cal = _calibration_mask(
        rows["patient_id"], design.temporal.calibration_share, design.random_state
    )
    X, y = rows[columns], rows["label"].to_numpy()
    w = rows["_weight"].to_numpy()
    weighted = bool((w != 1.0).any())
    ids = rows["patient_id"].to_numpy()[~cal]
    base = RiskModel(**params).fit(
        X[~cal], y[~cal], groups=ids, sample_weight=w[~cal] if weighted else None
    )
    risk = CalibratedRiskModel(base, method=design.calibration).fit(
        X[cal], y[cal], sample_weight=w[cal] if weighted else None
    )
    seconds = time.perf_counter() - tic
    logistic = LogisticBaseline().fit(
        X[~cal], y[~cal], sample_weight=w[~cal] if weighted else None
    )
    rules = RulesScorer().fit(
        X[~cal], y[~cal], sample_weight=w[~cal] if weighted else None
    )
    people = data.reset_index(drop=True)
    people_cal = _calibration_mask(
        people["patient_id"], design.temporal.calibration_share, design.random_state
    )
    logger.info(
        "trained on %d rows (%d held out for calibration), %d features, in %.1f s",
        int((~people_cal).sum()),
        int(people_cal.sum()),
        len(columns),
        seconds,
    )
    fitted = people[columns][~people_cal]
    reference = reference_distribution(
        fitted, columns, risk.predict_proba(fitted)[:, 1]
    )
    beds, n_beds = None, 0
    if bed_days:
        tic = time.perf_counter()
        frame = known_bed_days(raw, what="training (bed days)")
        bparams = bed_days_params(design)
        target = _bed_days_target(frame, columns, bparams)
        beds = BedDaysModel(**bparams).fit(
            frame[columns], target, groups=frame["patient_id"].to_numpy()
        )
        n_beds = len(frame)
        logger.info(
            "bed-days model: %d rows in %.1f s", n_beds, time.perf_counter() - tic
        )
    return TrainedModels(
        reference=reference,
        risk_model=risk,
        logistic=logistic,
        rules=rules,
        design=design,
        feature_columns=columns,
        n_fit=int((~people_cal).sum()),
        n_calibration=int(people_cal.sum()),
        fit_seconds=seconds,
        bed_days_model=beds,
        n_bed_days=n_beds,
        enrolled=enrolled,
    )
