"""All four figures of an evaluation at once, for notebooks and run artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskstrat.report._calibration_displays import (
    CalibrationDisplay,
    RiskDecileDisplay,
)
from riskstrat.report._displays import (
    MATPLOTLIB_IMPORT_ERROR,
    DecisionCurveDisplay,
    RiskRocDisplay,
    _Display,
)
from riskstrat.report._result import Evaluation

__all__ = ["evaluation_figures", "save_figures"]

_FIGURES: dict[str, tuple[type[_Display], str]] = {
    "roc": (RiskRocDisplay, "ROC curve"),
    "calibration": (CalibrationDisplay, "Calibration"),
    "decision_curve": (DecisionCurveDisplay, "Decision curve"),
    "risk_deciles": (RiskDecileDisplay, "Predicted and observed risk by decile"),
}


def evaluation_figures(
    evaluation: Evaluation, *, name: str | None = None
) -> dict[str, Any]:
    """The four figures of an evaluation, by name, as matplotlib Figures.

    The figures are made with ``matplotlib.figure.Figure``, not pyplot, so they
    need no closing and suit ``log_training_run(figures=...)``.

    Examples
    --------
    >>> from riskstrat.report import evaluate
    >>> ev = evaluate([0, 0, 1, 1], [.1, .4, .35, .8], n_bootstraps=0)
    >>> sorted(evaluation_figures(ev))
    ['calibration', 'decision_curve', 'risk_deciles', 'roc']
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MATPLOTLIB_IMPORT_ERROR) from None
    out = {}
    for key, (display, title) in _FIGURES.items():
        fig = Figure(figsize=(6, 5), layout="constrained")
        ax = fig.add_subplot()
        display.from_evaluation(evaluation, name=name, ax=ax)
        ax.set_title(title)
        out[key] = fig
    return out


def save_figures(
    evaluation: Evaluation,
    folder: str | Path,
    *,
    name: str | None = None,
    dpi: int = 100,
) -> list[Path]:
    """Save the four figures of an evaluation as PNG files in ``folder``.

    Files are ``roc.png``, ``calibration.png``, ``decision_curve.png`` and
    ``risk_deciles.png``; returns their paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, fig in evaluation_figures(evaluation, name=name).items():
        path = folder / f"{key}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
