"""Composition of the stages into the runs operations and analysts start.

Nothing here computes anything new: a training run fits the models of
:mod:`riskstrat.model`, evaluates them with :mod:`riskstrat.report` on a later
year, checks how the scores hold up in the years after, and logs the run (and
registers the model) in MLflow. The nightly run (:func:`run_nightly`) scores
everyone in the model's cohort on a date and publishes ``OUT/runs/<as_of>/``
atomically, with its manifest, run log and monitoring table.
"""

from riskstrat.batch._nightly import (
    NightlyRun,
    NightlySettings,
    TooManyRejectsError,
    run_nightly,
)
from riskstrat.batch._promote import PromotionDecision, PromotionSettings, promote
from riskstrat.batch._publish import RunLockedError, complete_runs, latest_run
from riskstrat.batch._training_run import TrainingRun, run_training

__all__ = [
    "NightlyRun",
    "NightlySettings",
    "PromotionDecision",
    "PromotionSettings",
    "RunLockedError",
    "TooManyRejectsError",
    "TrainingRun",
    "complete_runs",
    "latest_run",
    "promote",
    "run_nightly",
    "run_training",
]
