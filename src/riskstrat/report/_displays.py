"""Figures of an :class:`Evaluation`, as scikit-learn style Display objects.

Each display holds the numbers it draws (taken from an evaluation's tables, so
nothing is recomputed to redraw) and has ``from_evaluation`` and
``from_predictions`` class methods and ``plot(ax=None)``, which returns the display
with ``ax_``, ``figure_`` and the drawn artists. ``from_predictions`` runs
:func:`evaluate` and then ``from_evaluation``, so both give the same lines.
matplotlib is imported only when drawing.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from riskstrat.report._evaluation import evaluate
from riskstrat.report._result import Evaluation

__all__ = ["DecisionCurveDisplay", "RiskRocDisplay"]

MATPLOTLIB_IMPORT_ERROR = (
    "Drawing riskstrat.report figures needs matplotlib; install it with "
    "`pip install matplotlib`."
)


def _axes(ax: Any) -> Any:
    """``ax``, or new axes on a new pyplot figure; raises the install hint."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(MATPLOTLIB_IMPORT_ERROR) from None
    if ax is None:
        _, ax = plt.subplots()
    return ax


class _Display:
    """Shared ``from_predictions`` and bookkeeping of the displays."""

    def _finish(self, ax: Any, *, legend: str) -> Self:
        """Add the legend at ``legend``, keep ``ax_`` and ``figure_``; ``self``."""
        ax.legend(loc=legend)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, name=None, ax=None, **kwargs):
        """Draw from an :class:`Evaluation`."""
        raise NotImplementedError  # pragma: no cover

    @classmethod
    def from_predictions(
        cls,
        y_true,
        scores,
        *,
        n_bootstraps: int = 0,
        random_state: int = 0,
        name: str | None = None,
        ax=None,
        **kwargs,
    ):
        """Run :func:`evaluate` on ``y_true, scores``, then :meth:`from_evaluation`.

        ``n_bootstraps > 0`` adds the CIs a display shows (those of the risk
        deciles); other keywords go to :meth:`plot`.
        """
        ev = evaluate(
            y_true,
            scores,
            top_shares=(),
            n_bootstraps=n_bootstraps,
            random_state=random_state,
        )
        return cls.from_evaluation(ev, name=name, ax=ax, **kwargs)


class RiskRocDisplay(_Display):
    """ROC curve of risk scores.

    Parameters
    ----------
    fpr, tpr : array-like
        ROC points (``Evaluation.roc``).
    roc_auc : float, optional
        Shown in the legend.
    name : str, optional
        Model name for the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
    chance_level_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from riskstrat.report import RiskRocDisplay
    >>> d = RiskRocDisplay.from_predictions([0, 0, 1, 1], [.1, .4, .35, .8])
    >>> d.line_.get_label()
    'model (AUROC = 0.750)'
    >>> import matplotlib.pyplot as plt; plt.close(d.figure_)
    """

    def __init__(
        self, *, fpr, tpr, roc_auc: float | None = None, name: str | None = None
    ):
        self.fpr, self.tpr, self.roc_auc, self.name = fpr, tpr, roc_auc, name

    def plot(
        self, ax=None, *, name: str | None = None, chance_level: bool = True, **kwargs
    ):
        """Draw the curve (and the chance diagonal) on ``ax``; returns ``self``."""
        ax = _axes(ax)
        label = name or self.name or "model"
        if self.roc_auc is not None and np.isfinite(self.roc_auc):
            label = f"{label} (AUROC = {self.roc_auc:.3f})"
        (self.line_,) = ax.plot(self.fpr, self.tpr, label=label, **kwargs)
        self.chance_level_ = None
        if chance_level:
            (self.chance_level_,) = ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
        ax.set(
            xlabel="False positive rate (1 - specificity)",
            ylabel="True positive rate (sensitivity)",
            xlim=(0, 1),
            ylim=(0, 1.01),
        )
        return self._finish(ax, legend="lower right")

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, name=None, ax=None, **kwargs):
        """Draw from an :class:`Evaluation` (its ``roc`` table and AUROC)."""
        roc = evaluation.roc
        disp = cls(
            fpr=roc["fpr"].to_numpy(),
            tpr=roc["tpr"].to_numpy(),
            roc_auc=evaluation.metric("auroc"),
            name=name,
        )
        return disp.plot(ax, **kwargs)


class DecisionCurveDisplay(_Display):
    """Decision curve: net benefit of the model, of treating all and of treating none.

    Parameters
    ----------
    thresholds, net_benefit, treat_all : array-like
        From ``Evaluation.net_benefit`` (strategies model and treat_all).
    name : str, optional

    Attributes
    ----------
    line_, treat_all_line_, treat_none_line_ : matplotlib Line2D
        The last two are None with ``references=False``.
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from riskstrat.report import DecisionCurveDisplay
    >>> d = DecisionCurveDisplay.from_predictions([0, 0, 1, 1], [.1, .4, .35, .8])
    >>> d.line_.get_ydata()[:2].round(3).tolist()  # threshold 0.01 and 0.02
    [0.495, 0.49]
    >>> import matplotlib.pyplot as plt; plt.close(d.figure_)
    """

    def __init__(self, *, thresholds, net_benefit, treat_all, name: str | None = None):
        self.thresholds, self.net_benefit, self.treat_all = (
            thresholds,
            net_benefit,
            treat_all,
        )
        self.name = name

    def plot(
        self, ax=None, *, name: str | None = None, references: bool = True, **kwargs
    ):
        """Draw on ``ax``; returns ``self``."""
        ax = _axes(ax)
        label = name or self.name or "model"
        (self.line_,) = ax.plot(
            self.thresholds, self.net_benefit, label=label, **kwargs
        )
        self.treat_all_line_ = self.treat_none_line_ = None
        if references:
            (self.treat_all_line_,) = ax.plot(
                self.thresholds, self.treat_all, color="0.5", lw=1, label="treat all"
            )
            (self.treat_none_line_,) = ax.plot(
                self.thresholds,
                np.zeros(len(self.thresholds)),
                "k:",
                lw=1,
                label="treat none",
            )
        top = 1.1 * float(np.nanmax(np.r_[self.net_benefit, self.treat_all, 0.001]))
        ax.set(
            xlabel="Threshold probability",
            ylabel="Net benefit",
            xlim=(0, float(np.max(self.thresholds))),
            ylim=(-0.25 * top, top),
        )
        return self._finish(ax, legend="upper right")

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, name=None, ax=None, **kwargs):
        """Draw from the ``net_benefit`` table of an evaluation."""
        nb = evaluation.net_benefit
        model = nb[nb["strategy"] == "model"]
        treat_all = nb[nb["strategy"] == "treat_all"]
        disp = cls(
            thresholds=model["threshold"].to_numpy(),
            net_benefit=model["net_benefit"].to_numpy(),
            treat_all=treat_all["net_benefit"].to_numpy(),
            name=name,
        )
        return disp.plot(ax, **kwargs)
