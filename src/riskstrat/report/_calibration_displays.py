"""Calibration figures: the calibration plot and the risk-decile bars."""

from __future__ import annotations

import numpy as np

from riskstrat.report._displays import _axes, _Display
from riskstrat.report._result import Evaluation

__all__ = ["CalibrationDisplay", "RiskDecileDisplay"]


class CalibrationDisplay(_Display):
    """Calibration plot: risk deciles, the smoothed curve and the diagonal.

    Parameters
    ----------
    predicted, observed_smoothed : array-like
        The smoothed calibration curve (``Evaluation.calibration_curve``).
    decile_predicted, decile_observed : array-like
        Mean predicted risk and observed rate per risk decile.
    decile_ci_low, decile_ci_high : array-like, optional
        CI of the observed rate, drawn as vertical lines when finite.
    name : str, optional

    Attributes
    ----------
    line_ : matplotlib Line2D
        The smoothed curve.
    points_ : matplotlib Line2D
        Decile markers.
    ci_lines_ : matplotlib LineCollection or None
    diagonal_ : matplotlib Line2D or None
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from riskstrat.report import CalibrationDisplay
    >>> d = CalibrationDisplay.from_predictions([0, 0, 1, 1], [.1, .4, .35, .8])
    >>> d.points_.get_xdata().round(3).tolist()
    [0.1, 0.35, 0.4, 0.8]
    >>> import matplotlib.pyplot as plt; plt.close(d.figure_)
    """

    def __init__(
        self,
        *,
        predicted,
        observed_smoothed,
        decile_predicted,
        decile_observed,
        decile_ci_low=None,
        decile_ci_high=None,
        name: str | None = None,
    ):
        self.predicted, self.observed_smoothed = predicted, observed_smoothed
        self.decile_predicted, self.decile_observed = decile_predicted, decile_observed
        self.decile_ci_low, self.decile_ci_high = decile_ci_low, decile_ci_high
        self.name = name

    def plot(
        self, ax=None, *, name: str | None = None, diagonal: bool = True, **kwargs
    ):
        """Draw on ``ax``; returns ``self``."""
        ax = _axes(ax)
        label = name or self.name or "model"
        (self.line_,) = ax.plot(
            self.predicted,
            self.observed_smoothed,
            label=f"{label} (smoothed)",
            **kwargs,
        )
        color = self.line_.get_color()
        (self.points_,) = ax.plot(
            self.decile_predicted,
            self.decile_observed,
            "o",
            color=color,
            label=f"{label} (risk deciles)",
        )
        self.ci_lines_ = None
        if self.decile_ci_low is not None and np.isfinite(self.decile_ci_low).any():
            self.ci_lines_ = ax.vlines(
                self.decile_predicted,
                self.decile_ci_low,
                self.decile_ci_high,
                color=color,
            )
        top = 1.05 * float(
            np.nanmax(
                np.r_[self.predicted, self.observed_smoothed, self.decile_observed]
            )
        )
        self.diagonal_ = None
        if diagonal:
            (self.diagonal_,) = ax.plot(
                [0, top], [0, top], "k--", lw=1, label="perfect"
            )
        ax.set(
            xlabel="Predicted risk",
            ylabel="Observed rate",
            xlim=(0, top),
            ylim=(0, top),
        )
        return self._finish(ax, legend="upper left")

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, name=None, ax=None, **kwargs):
        """Draw from ``calibration_curve`` and ``calibration`` of an evaluation."""
        curve, dec = evaluation.calibration_curve, evaluation.calibration
        disp = cls(
            predicted=curve["predicted"].to_numpy(),
            observed_smoothed=curve["observed_smoothed"].to_numpy(),
            decile_predicted=dec["mean_predicted"].to_numpy(),
            decile_observed=dec["observed"].to_numpy(),
            decile_ci_low=dec["observed_ci_low"].to_numpy(),
            decile_ci_high=dec["observed_ci_high"].to_numpy(),
            name=name,
        )
        return disp.plot(ax, **kwargs)


class RiskDecileDisplay(_Display):
    """Mean predicted risk and observed rate by risk decile, as paired bars.

    Parameters
    ----------
    decile, mean_predicted, observed : array-like
        From ``Evaluation.calibration``.
    observed_ci_low, observed_ci_high : array-like, optional
        Drawn as vertical lines on the observed bars when finite.
    name : str, optional

    Attributes
    ----------
    predicted_bars_, observed_bars_ : matplotlib BarContainer
    ci_lines_ : matplotlib LineCollection or None
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from riskstrat.report import RiskDecileDisplay
    >>> d = RiskDecileDisplay.from_predictions([0, 0, 1, 1], [.1, .4, .35, .8])
    >>> [float(b.get_height()) for b in d.observed_bars_]
    [0.0, 1.0, 0.0, 1.0]
    >>> import matplotlib.pyplot as plt; plt.close(d.figure_)
    """

    def __init__(
        self,
        *,
        decile,
        mean_predicted,
        observed,
        observed_ci_low=None,
        observed_ci_high=None,
        name: str | None = None,
    ):
        self.decile, self.mean_predicted, self.observed = (
            decile,
            mean_predicted,
            observed,
        )
        self.observed_ci_low, self.observed_ci_high = observed_ci_low, observed_ci_high
        self.name = name

    def plot(self, ax=None, *, name: str | None = None, width: float = 0.4):
        """Draw on ``ax``; returns ``self``."""
        ax = _axes(ax)
        label = name or self.name
        x = np.asarray(self.decile, dtype=float)
        prefix = f"{label}: " if label else ""
        self.predicted_bars_ = ax.bar(
            x - width / 2, self.mean_predicted, width, label=f"{prefix}mean predicted"
        )
        self.observed_bars_ = ax.bar(
            x + width / 2, self.observed, width, label=f"{prefix}observed"
        )
        self.ci_lines_ = None
        if self.observed_ci_low is not None and np.isfinite(self.observed_ci_low).any():
            self.ci_lines_ = ax.vlines(
                x + width / 2, self.observed_ci_low, self.observed_ci_high, color="k"
            )
        ax.set(xlabel="Risk decile (10 = highest)", ylabel="Risk", xticks=x)
        return self._finish(ax, legend="upper left")

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, name=None, ax=None, **kwargs):
        """Draw from the ``calibration`` table of an evaluation."""
        dec = evaluation.calibration
        disp = cls(
            decile=dec["decile"].to_numpy(),
            mean_predicted=dec["mean_predicted"].to_numpy(),
            observed=dec["observed"].to_numpy(),
            observed_ci_low=dec["observed_ci_low"].to_numpy(),
            observed_ci_high=dec["observed_ci_high"].to_numpy(),
            name=name,
        )
        return disp.plot(ax, **kwargs)
