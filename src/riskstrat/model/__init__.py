"""Model: scikit-learn estimators for the risk of emergency admission.

:class:`RiskModel` (LightGBM, depth-limited, early-stopped) is the main model;
:class:`LogisticBaseline` and :class:`RulesScorer` (the seed's case-finding rules)
are baselines it must beat, and :class:`OracleScorer` (the synthetic truth) is the
ceiling. Calibration is post-processing of a frozen model
(:class:`CalibratedRiskModel`, :class:`ScoreCalibrator`), fitted on held-out data.
Models read feature tables; they never decide who is in the cohort.
"""

from riskstrat.model._baselines import LogisticBaseline, OracleScorer, RulesScorer
from riskstrat.model._bed_days import BedDaysModel, bed_day_capture
from riskstrat.model._calibration import CalibratedRiskModel, ScoreCalibrator
from riskstrat.model._design import CohortSettings, ModelDesign, TemporalDesign
from riskstrat.model._encoding import FrameEncoder, feature_schema
from riskstrat.model._registry import (
    LoadedModel,
    default_tracking_uri,
    load_model,
    log_training_run,
)
from riskstrat.model._risk_model import RiskModel
from riskstrat.model._training import TrainedModels, cohort_frame, fit_models

__all__ = [
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
    "cohort_frame",
    "default_tracking_uri",
    "feature_schema",
    "fit_models",
    "load_model",
    "log_training_run",
]
