"""The :class:`Evaluation` result (tidy aggregate tables) and :func:`compare`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SMALL_COUNT", "Evaluation", "compare", "suppress_small_counts"]

#: Counts from 1 to ``SMALL_COUNT - 1`` are suppressed in tables meant to be
#: logged or shared (statistical disclosure control; 0 is shown).
SMALL_COUNT = 5
SUPPRESSED_NOTE = f"counts of 1-{SMALL_COUNT - 1} suppressed"

#: Columns holding counts of people or events.
_COUNT_COLUMNS = ("n", "events", "n_flagged", "events_flagged")

#: Per table, the columns that say which row it is; they are never suppressed.
_ROW_KEYS = {
    "thresholds": ("rule", "value"),
    "calibration": ("decile",),
    "calibration_curve": ("predicted",),
    "distribution": ("score_from", "score_to"),
    "by_group": ("group", "level"),
    "thresholds_by_group": ("group", "level", "rule", "value"),
}


TABLES = (
    "overall",
    "thresholds",
    "calibration",
    "calibration_curve",
    "roc",
    "net_benefit",
    "distribution",
    "by_group",
    "thresholds_by_group",
)
_COMPARED = (
    "n",
    "events",
    "prevalence",
    "auroc",
    "auprc",
    "brier",
    "calibration_intercept",
    "calibration_slope",
    "e_avg",
    "e90",
    "observed_expected",
)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Evaluation:
    """Aggregate evaluation tables of one set of risk scores (see :func:`evaluate`).

    Every table is a tidy :class:`pandas.DataFrame` whose number of rows depends on
    the metrics, cut-offs and groups asked for, never on the number of people: no
    table holds a row per person.

    Attributes
    ----------
    overall : DataFrame
        ``metric, estimate, ci_low, ci_high, note``: n, events, prevalence, auroc,
        auprc, brier, calibration_intercept, calibration_slope, e_avg, e50, e90,
        e_max, observed_expected.
    thresholds : DataFrame
        One row per top share (``rule="top_share"``) and probability threshold
        (``rule="probability"``): n_flagged, share_flagged, cutoff,
        events_flagged, ppv, sensitivity, specificity, bed_day_share (each of ppv,
        sensitivity and bed_day_share with ``_ci_low``/``_ci_high``) and
        flagged_per_event (``1 / ppv``).
    calibration : DataFrame
        Risk deciles, 1 = lowest: n, events, mean_predicted, observed (with CI),
        observed_expected.
    calibration_curve : DataFrame
        The smoothed calibration curve: predicted, observed_smoothed, n per bin.
    roc : DataFrame
        ROC points (share_flagged, threshold, fpr, tpr) on a fixed grid.
    net_benefit : DataFrame
        Decision curve: threshold, strategy (model, treat_all, treat_none),
        net_benefit.
    distribution : DataFrame
        People, events and mean score per fixed score band.
    by_group : DataFrame
        Per grouping column and level: n, events, prevalence, auroc (with CI),
        brier, observed_expected (with CI), calibration_slope, note.
    thresholds_by_group : DataFrame
        Per grouping column, level and cut-off: n_flagged, share_of_level_flagged,
        share_of_flagged, ppv, sensitivity.
    n_bootstraps, confidence_level, random_state
        The bootstrap settings used.

    Examples
    --------
    >>> from riskstrat.report import evaluate
    >>> ev = evaluate([0, 0, 1, 0, 1, 0, 1, 1], [.1, .2, .3, .35, .6, .7, .8, .9])
    >>> sorted(ev.to_frames()) == sorted(TABLES)
    True
    """

    overall: pd.DataFrame
    thresholds: pd.DataFrame
    calibration: pd.DataFrame
    calibration_curve: pd.DataFrame
    roc: pd.DataFrame
    net_benefit: pd.DataFrame
    distribution: pd.DataFrame
    by_group: pd.DataFrame
    thresholds_by_group: pd.DataFrame
    n_bootstraps: int
    confidence_level: float
    random_state: int

    def metric(self, name: str) -> float:
        """The overall estimate of metric ``name`` (a value of ``overall.metric``)."""
        row = self.overall.loc[self.overall["metric"] == name, "estimate"]
        if row.empty:
            known = ", ".join(self.overall["metric"])
            raise KeyError(f"No overall metric {name!r}; known metrics: {known}.")
        return float(row.iloc[0])

    def to_frames(self, *, suppress: bool = True) -> dict[str, pd.DataFrame]:
        """The tables by name (copies), in a fixed order.

        Parameters
        ----------
        suppress : bool, default=True
            Suppress small counts (:func:`suppress_small_counts`): these tables
            are logged to MLflow and saved beside the model, so a cell counting
            1 to 4 people is shown as null with a note. ``False`` gives the
            tables exactly as computed (the attributes hold them too).
        """
        frames = {name: getattr(self, name).copy() for name in TABLES}
        if suppress:
            frames = {
                name: suppress_small_counts(frame, table=name)
                for name, frame in frames.items()
            }
        return frames

    def save(self, folder: str | Path) -> list[Path]:
        """Write one CSV per table and ``settings.json`` into ``folder``.

        Small counts are suppressed as in :meth:`to_frames`. Rows keep the
        table's fixed order, floats are written with 10 significant digits
        and lines end in a bare newline, so saving the same evaluation twice
        gives byte-identical files.

        Returns
        -------
        list of Path
            The files written.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.to_frames().items():
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
            written.append(path)
        settings = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in TABLES
        }
        path = folder / "settings.json"
        path.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        return [*written, path]

    def __repr__(self) -> str:
        o = self.overall.set_index("metric")
        auc = o.loc["auroc"]
        return (
            f"Evaluation(n={int(o.at['n', 'estimate'])}, "
            f"events={int(o.at['events', 'estimate'])}, "
            f"auroc={auc.estimate:.3f} [{auc.ci_low:.3f}, {auc.ci_high:.3f}], "
            f"calibration_slope={o.at['calibration_slope', 'estimate']:.3f}, "
            f"groups={self.by_group['group'].nunique()})"
        )


def compare(evaluations: Mapping[str, Evaluation]) -> pd.DataFrame:
    """Key metrics of several evaluations side by side, one row per model.

    Parameters
    ----------
    evaluations : mapping of str to Evaluation
        Model name to its evaluation, ideally on the same people.

    Returns
    -------
    DataFrame
        ``model``, the overall metrics (auroc with its CI), and ``ppv``,
        ``sensitivity`` and (when bed days were given) ``bed_day_share`` at each
        top share, e.g. ``ppv_top_5pct``.

    Examples
    --------
    >>> from riskstrat.report import evaluate
    >>> y = [0, 0, 1, 0, 1, 0, 1, 1]
    >>> a = evaluate(y, [.1, .2, .3, .35, .6, .7, .8, .9], n_bootstraps=0)
    >>> b = evaluate(y, [.5, .5, .5, .5, .5, .5, .5, .6], n_bootstraps=0)
    >>> compare({"model": a, "flat": b})[["model", "auroc"]]
       model   auroc
    0  model  0.8125
    1   flat  0.6250
    """
    if not isinstance(evaluations, Mapping) or not evaluations:
        raise ValueError(
            "compare needs a non-empty mapping of model name to Evaluation. "
            f"Got {evaluations!r} instead."
        )
    rows = []
    for name, ev in evaluations.items():
        if not isinstance(ev, Evaluation):
            raise TypeError(
                f"compare: {name!r} is a {type(ev).__name__}, not an Evaluation."
            )
        o = ev.overall.set_index("metric")
        row: dict[str, object] = {"model": name}
        for metric in _COMPARED:
            row[metric] = o.at[metric, "estimate"]
            if metric == "auroc":
                row["auroc_ci_low"] = o.at[metric, "ci_low"]
                row["auroc_ci_high"] = o.at[metric, "ci_high"]
        top = ev.thresholds[ev.thresholds["rule"] == "top_share"]
        for t in top.itertuples():
            tag = f"top_{100 * float(t.value):g}pct"
            row[f"ppv_{tag}"] = t.ppv
            row[f"sensitivity_{tag}"] = t.sensitivity
            if np.isfinite(t.bed_day_share):
                row[f"bed_day_share_{tag}"] = t.bed_day_share
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("n", "events"):
        out[col] = out[col].astype(np.int64)
        small = (out[col] > 0) & (out[col] < SMALL_COUNT)
        if small.any():  # this table is logged: suppress small counts
            out[col] = out[col].astype("Int64").mask(small)
    return out


def suppress_small_counts(frame: pd.DataFrame, *, table: str) -> pd.DataFrame:
    """``frame`` with every row that counts 1 to 4 people or events blanked.

    In a row where any count column (``n``, ``events``, ``n_flagged``,
    ``events_flagged``) is between 1 and ``SMALL_COUNT - 1``, every column but
    the ones naming the row becomes null (rates computed from a small count
    reveal it), and ``note`` says why. In ``overall``, a small ``n`` or
    ``events`` is blanked, and ``prevalence`` with it. Zero is shown.

    Parameters
    ----------
    frame : DataFrame
        One table of an :class:`Evaluation`.
    table : str
        Its name (one of ``TABLES``).

    Returns
    -------
    DataFrame
        A copy when anything was suppressed, else ``frame`` itself.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"decile": [1, 2], "n": [3, 40], "events": [1, 0],
    ...                   "observed": [1 / 3, 0.0]})
    >>> out = suppress_small_counts(f, table="calibration")
    >>> out["n"].tolist(), out["observed"].tolist()
    ([nan, 40.0], [nan, 0.0])
    >>> out["note"].tolist()
    ['counts of 1-4 suppressed', '']
    """
    if table == "overall":
        return _suppress_overall(frame)
    counts = [c for c in _COUNT_COLUMNS if c in frame.columns]
    if not counts or frame.empty:
        return frame
    small = np.zeros(len(frame), dtype=bool)
    for c in counts:
        v = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        small |= (v > 0) & (v < SMALL_COUNT)
    if not small.any():
        return frame
    out = frame.copy()
    keys = set(_ROW_KEYS.get(table, ())) | {"note"}
    for c in out.columns:
        if c in keys:
            continue
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(
            out[c]
        ):
            out[c] = out[c].astype("float64").mask(small)
        else:
            out[c] = out[c].astype(object).mask(small)
    return _add_note(out, small)


def _suppress_overall(frame: pd.DataFrame) -> pd.DataFrame:
    if "metric" not in frame.columns or frame.empty:
        return frame
    est = frame.set_index("metric")["estimate"]
    small = [
        m
        for m in ("n", "events")
        if m in est.index and 0 < float(est.loc[m]) < SMALL_COUNT
    ]
    if not small:
        return frame
    out = frame.copy()
    rows = out["metric"].isin([*small, "prevalence"]).to_numpy()
    for c in ("estimate", "ci_low", "ci_high"):
        if c in out.columns:
            out[c] = out[c].astype("float64").mask(rows)
    return _add_note(out, rows)


def _add_note(out: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    note = out["note"] if "note" in out.columns else pd.Series("", index=out.index)
    note = note.fillna("").astype(str)
    extra = np.where(
        note.to_numpy() == "", SUPPRESSED_NOTE, note.to_numpy() + "; " + SUPPRESSED_NOTE
    )
    out["note"] = np.where(rows, extra, note.to_numpy())
    return out
