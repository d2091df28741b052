"""Report: how good the risk scores are, for whom, and at which caseload.

:func:`evaluate` turns outcomes and predicted probabilities (plus optional grouping
columns and next-year bed days) into an :class:`Evaluation` of small tidy tables:
discrimination (AUROC, AUPRC), calibration (intercept, slope, smoothed E-statistics,
risk deciles), what flagging the top 0.5-10 % would capture (PPV, sensitivity, bed
days), a decision curve, and the same by locality, age band, sex or deprivation,
with seeded percentile-bootstrap CIs. Tables are aggregate only, never a row per
person, so they can be saved (:meth:`Evaluation.save`) and logged as run artefacts;
there a cell counting 1 to 4 people or events is suppressed (null, with a note).
:func:`compare` puts several models side by side; the Display classes draw the
figures from an evaluation without recomputing it (matplotlib is imported only
when drawing).
"""

from riskstrat.report._calibration_displays import (
    CalibrationDisplay,
    RiskDecileDisplay,
)
from riskstrat.report._displays import DecisionCurveDisplay, RiskRocDisplay
from riskstrat.report._evaluation import evaluate
from riskstrat.report._figures import evaluation_figures, save_figures
from riskstrat.report._result import Evaluation, compare, suppress_small_counts

__all__ = [
    "CalibrationDisplay",
    "DecisionCurveDisplay",
    "Evaluation",
    "RiskDecileDisplay",
    "RiskRocDisplay",
    "compare",
    "evaluate",
    "evaluation_figures",
    "save_figures",
    "suppress_small_counts",
]
