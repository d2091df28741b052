"""Model: scikit-learn estimators for the risk of emergency admission.

:class:`RiskModel` (LightGBM, depth-limited, early-stopped) is the main model;
:class:`LogisticBaseline` and :class:`RulesScorer` (the seed's case-finding rules)
are baselines it must beat, and :class:`OracleScorer` (the synthetic truth) is the
ceiling. Calibration is post-processing of a frozen model
(:class:`CalibratedRiskModel`, :class:`ScoreCalibrator`), fitted on held-out data.
Models read feature tables; they never decide who is in the cohort.
:func:`score` is the one way later stages get risk: a table keyed by
``(patient_id, as_of)`` carrying the model's name and pinned version; a
registered model (:func:`load_model`) refuses features unlike those it was
trained on, and is an MLflow pyfunc any MLflow user can call.
:class:`BedDaysModel` (LightGBM, Tweedie) predicts next-year emergency bed days;
it is trained and registered beside the risk model (``NAME-bed-days``) and read
with :func:`score_bed_days`.
"""

from riskstrat.model._baselines import LogisticBaseline, OracleScorer, RulesScorer
from riskstrat.model._bed_days import BedDaysModel, bed_day_capture, evaluate_bed_days
from riskstrat.model._calibration import CalibratedRiskModel, ScoreCalibrator
from riskstrat.model._design import CohortSettings, ModelDesign, TemporalDesign
from riskstrat.model._encoding import FrameEncoder, feature_schema, schema_diff
from riskstrat.model._reference import psi, reference_distribution
from riskstrat.model._registry import (
    BED_DAYS_SUFFIX,
    LoadedModel,
    check_model_name,
    check_tracking_uri,
    default_tracking_uri,
    load_bed_days_model,
    load_model,
    log_training_run,
)
from riskstrat.model._risk_model import RiskModel
from riskstrat.model._scoring import (
    BED_DAYS_SCHEMA,
    SCORE_SCHEMA,
    check_features,
    score,
    score_bed_days,
    score_spark,
)
from riskstrat.model._training import (
    TrainedModels,
    check_trainable,
    cohort_frame,
    feature_columns,
    fit_models,
    known_bed_days,
    known_labels,
)

__all__ = [
    "BED_DAYS_SCHEMA",
    "BED_DAYS_SUFFIX",
    "SCORE_SCHEMA",
    "BedDaysModel",
    "CalibratedRiskModel",
    "CohortSettings",
    "FrameEncoder",
    "LoadedModel",
    "LogisticBaseline",
    "ModelDesign",
    "OracleScorer",
    "RiskModel",
    "RulesScorer",
    "ScoreCalibrator",
    "TemporalDesign",
    "TrainedModels",
    "bed_day_capture",
    "check_features",
    "check_model_name",
    "check_tracking_uri",
    "check_trainable",
    "cohort_frame",
    "default_tracking_uri",
    "evaluate_bed_days",
    "feature_columns",
    "feature_schema",
    "fit_models",
    "known_bed_days",
    "known_labels",
    "load_bed_days_model",
    "load_model",
    "log_training_run",
    "psi",
    "reference_distribution",
    "schema_diff",
    "score",
    "score_bed_days",
    "score_spark",
]
