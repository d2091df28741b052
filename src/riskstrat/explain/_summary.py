"""For analysts: the global importance of each reason group and a beeswarm figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from riskstrat.explain._templates import ReasonTemplates, load_templates

__all__ = ["ContributionDisplay", "beeswarm", "global_summary"]

_KEY = ("patient_id", "as_of", "base_value")
_SHAP_IMPORT_ERROR = (
    "The beeswarm figure needs shap and matplotlib; install riskstrat with them "
    "(`pip install shap matplotlib`)."
)


def _matrix(table: pa.Table) -> tuple[np.ndarray, list[str]]:
    missing = [c for c in _KEY if c not in table.column_names]
    if missing:
        raise ValueError(f"Expected a table from contributions(); it lacks {missing}.")
    groups = [c for c in table.column_names if c not in _KEY]
    if table.num_rows == 0:
        raise ValueError("The contribution table is empty; explain some people first.")
    m = np.column_stack(
        [table[g].to_numpy(zero_copy_only=False).astype(np.float64) for g in groups]
    )
    return m, groups


def global_summary(
    contributions: pa.Table, *, templates: ReasonTemplates | None = None
) -> pa.Table:
    """Mean absolute contribution of each reason group, largest first.

    Parameters
    ----------
    contributions : pyarrow.Table
        From :func:`contributions` (by group or by feature).
    templates : ReasonTemplates, optional
        For the groups' labels; the packaged wording by default.

    Returns
    -------
    pyarrow.Table
        ``reason_group``, ``label``, ``mean_abs_contribution``,
        ``mean_contribution`` and ``share_raising`` (the share of people whose
        contribution is above 0), sorted by ``mean_abs_contribution`` descending.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> c = pa.table({"patient_id": ["a", "b"],
    ...               "as_of": pa.array([dt.date(2023, 4, 1)] * 2, pa.date32()),
    ...               "base_value": [-2.0, -2.0], "age": [0.5, -0.1],
    ...               "medicines": [0.2, 0.2]})
    >>> s = global_summary(c)
    >>> s["reason_group"].to_pylist(), s["mean_abs_contribution"].to_pylist()
    (['age', 'medicines'], [0.3, 0.2])
    """
    templates = templates if templates is not None else load_templates()
    m, groups = _matrix(contributions)
    labels = [templates.groups[g].label if g in templates.groups else g for g in groups]
    mean_abs = np.abs(m).mean(axis=0)
    order = sorted(range(len(groups)), key=lambda k: (-round(mean_abs[k], 12), k))
    return pa.table(
        {
            "reason_group": [groups[k] for k in order],
            "label": [labels[k] for k in order],
            "mean_abs_contribution": [float(mean_abs[k]) for k in order],
            "mean_contribution": [float(m[:, k].mean()) for k in order],
            "share_raising": [float((m[:, k] > 0).mean()) for k in order],
        }
    )


class ContributionDisplay:
    """Beeswarm of per-person contributions by reason group (shap's plotting).

    Build with :meth:`from_contributions`; :meth:`plot` draws without
    recomputing anything.

    Parameters
    ----------
    values : ndarray of shape (n_people, n_groups)
    base_values : ndarray of shape (n_people,)
    groups : list of str
    labels : list of str

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> c = pa.table({"patient_id": ["a", "b"],
    ...               "as_of": pa.array([dt.date(2023, 4, 1)] * 2, pa.date32()),
    ...               "base_value": [-2.0, -2.0], "age": [0.5, -0.1]})
    >>> d = ContributionDisplay.from_contributions(c)
    >>> d.values.shape, d.labels
    ((2, 1), ['Age'])
    """

    def __init__(
        self,
        values: np.ndarray,
        base_values: np.ndarray,
        groups: list[str],
        labels: list[str],
    ) -> None:
        self.values = values
        self.base_values = base_values
        self.groups = groups
        self.labels = labels

    @classmethod
    def from_contributions(
        cls, contributions: pa.Table, *, templates: ReasonTemplates | None = None
    ) -> ContributionDisplay:
        """Take the matrix of a :func:`contributions` table."""
        templates = templates if templates is not None else load_templates()
        m, groups = _matrix(contributions)
        labels = [
            templates.groups[g].label if g in templates.groups else g for g in groups
        ]
        base = contributions["base_value"].to_numpy(zero_copy_only=False)
        return cls(m, np.asarray(base, dtype=np.float64), groups, labels)

    def plot(self, *, ax: Any = None, max_display: int = 10) -> ContributionDisplay:
        """Draw the beeswarm (points coloured by the contribution itself).

        A reason group has no single feature value to colour by, so the colour
        repeats the position: it only helps to read dense swarms.
        """
        try:
            import matplotlib.pyplot as plt
            import shap
        except ImportError:  # pragma: no cover - both are dependencies today
            raise ImportError(_SHAP_IMPORT_ERROR) from None
        if ax is None:
            _, ax = plt.subplots(
                figsize=(8, 0.4 * min(max_display, len(self.groups)) + 1.5)
            )
        explanation = shap.Explanation(
            values=self.values,
            base_values=self.base_values,
            data=self.values,
            feature_names=self.labels,
        )
        shap.plots.beeswarm(
            explanation,
            max_display=max_display,
            ax=ax,
            show=False,
            plot_size=None,
            color_bar_label="Contribution (log-odds)",
        )
        ax.set_xlabel("Contribution to the raw risk score (log-odds)")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def beeswarm(
    contributions: pa.Table, *, ax: Any = None, max_display: int = 10
) -> ContributionDisplay:
    """Shortcut: ``ContributionDisplay.from_contributions(c).plot(...)``."""
    return ContributionDisplay.from_contributions(contributions).plot(
        ax=ax, max_display=max_display
    )
