"""Figures of an impact evaluation (matplotlib ``Figure`` objects, no pyplot).

The estimate with its CI beside the naive one (and the truth, when known), the
balance "love plot", monthly rates against the baseline and the target, and the
planning curve. matplotlib is imported only when drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.impact._result import OUTCOMES, ImpactResult

__all__ = ["impact_figures", "save_impact_figures"]

MATPLOTLIB_IMPORT_ERROR = (
    "Drawing riskstrat.impact figures needs matplotlib; install it with "
    "`pip install matplotlib`."
)

_LABEL = {
    "emergency_admissions": "Emergency admissions per person-year",
    "emergency_bed_days": "Emergency bed days per person-year",
}


def _figure(size=(7, 4.5)):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MATPLOTLIB_IMPORT_ERROR) from None
    return Figure(figsize=size, layout="constrained")


def estimate_figure(result: ImpactResult, truth: pd.DataFrame | None = None) -> Any:
    """The matched estimate and the placebo with 95 % CIs beside the naive one."""
    fig = _figure((9, 4))
    for k, outcome in enumerate(OUTCOMES):
        ax = fig.add_subplot(1, 2, k + 1)
        names = ["naive before/after", "matched (DiD)", "placebo"]
        rows = [result.get(a, outcome) for a in ("naive", "matched", "placebo")]
        y = np.arange(len(rows))[::-1]
        est = np.array([r["estimate"] for r in rows])
        lo = np.array([r["ci_low"] for r in rows])
        hi = np.array([r["ci_high"] for r in rows])
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", capsize=4)
        if truth is not None:
            t = truth.set_index("outcome").loc[outcome, "effect"]
            ax.axvline(t, color="tab:green", lw=1.5, label=f"truth ({t:+.2f})")
            ax.legend(loc="best", fontsize="small")
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.set_yticks(y, names)
        ax.set_title(_LABEL[outcome], fontsize="medium")
        ax.set_xlabel("Change per person-year (95 % CI)")
    fig.suptitle(
        f"Effect of case management ({result.n_matched:,} matched enrolled)\n"
        f"controls: {result.controls_label}",
        fontsize="medium",
    )
    return fig


def balance_figure(result: ImpactResult) -> Any:
    """Standardised mean differences before and after matching (a love plot)."""
    b = result.balance
    fig = _figure((6, 0.4 * len(b) + 1.5))
    ax = fig.add_subplot()
    y = np.arange(len(b))[::-1]
    ax.scatter(b["smd_before"], y, marker="x", label="before matching")
    ax.scatter(b["smd_after"], y, marker="o", label="after matching")
    for x in (-0.1, 0.1):
        ax.axvline(x, color="grey", lw=0.8, ls=":")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, b["variable"])
    ax.set_xlabel("Standardised mean difference (enrolled - controls)")
    ax.legend(loc="lower right")
    return fig


def monthly_figure(monthly: pd.DataFrame) -> Any:
    """Emergency bed days per 1,000 a year by month, baseline and target (all)."""
    m = monthly[monthly["locality"] == "all"]
    fig = _figure()
    ax = fig.add_subplot()
    x = pd.to_datetime(m["month"])
    ax.plot(x, m["bed_days_per_1000"], marker=".", label="emergency bed days")
    ax.plot(x, m["baseline_bed_days_per_1000"], color="grey", label="baseline year")
    ax.plot(
        x,
        m["target_bed_days_per_1000"],
        color="tab:red",
        ls="--",
        label="target (-5 %)",
    )
    ax.set_ylabel("Emergency bed days per 1,000 people a year")
    ax.legend(loc="upper right")
    return fig


def planning_figure(curve: pd.DataFrame) -> Any:
    """Expected bed days saved a year against case managers, with the CI band."""
    fig = _figure()
    ax = fig.add_subplot()
    x = curve["case_managers"]
    ax.fill_between(
        x,
        curve["saved_low"],
        curve["saved_high"],
        alpha=0.25,
        label="95 % CI of the effect",
    )
    ax.plot(x, curve["bed_days_saved"], marker=".", label="expected")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("Case managers (FTE), people taken in rank order")
    ax.set_ylabel("Emergency bed days saved a year")
    ax.legend(loc="upper left")
    return fig


def impact_figures(
    result: ImpactResult,
    *,
    monthly: pd.DataFrame | None = None,
    curve: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The figures, by name."""
    out = {
        "impact_estimate": estimate_figure(result, truth),
        "impact_balance": balance_figure(result),
    }
    if monthly is not None:
        out["impact_monthly"] = monthly_figure(monthly)
    if curve is not None:
        out["impact_planning"] = planning_figure(curve)
    return out


def save_impact_figures(folder: str | Path, **kwargs) -> list[Path]:
    """Save :func:`impact_figures` as PNG files in ``folder``; their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in impact_figures(**kwargs).items():
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=100)
        paths.append(path)
    return paths
