"""Composition of the stages into the runs operations and analysts start.

Nothing here computes anything new: a training run fits the models of
:mod:`riskstrat.model`, evaluates them with :mod:`riskstrat.report` on a later
year, checks how the scores hold up in the years after, and logs the run (and
registers the model) in MLflow.
"""

from riskstrat.batch._training_run import TrainingRun, run_training

__all__ = ["TrainingRun", "run_training"]
