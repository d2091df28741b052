"""Disaggregated tables: performance and caseload by locality, age band, sex, ...

Each grouping column is a partition of the people into levels; every level gets a
row, including small ones, with NaN and a ``note`` instead of an error when a
statistic is undefined (one class only) or unreliable (too few events for a
calibration slope).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.report._metrics import fit_logistic

MIN_EVENTS_FOR_SLOPE = 10  # events and non-events a group needs for a slope


def undefined_note(what: str, bad: int, total: int) -> str:
    """Note for a CI that ignored resamples where the statistic was undefined."""
    return f"{what} undefined in {bad} of {total} resamples" if bad else ""


def by_group(s, est, ci, stats, sorted_groups, n_bootstraps) -> pd.DataFrame:
    frames = []
    for j, (col, codes, levels) in enumerate(sorted_groups):
        size, n, events = _level_counts(codes, levels, s.y)
        auc_low, auc_high, auc_bad = ci(f"auroc:{j}")
        oe_low, oe_high, _ = ci(f"oe:{j}")
        ranks = stats.groups[j]
        notes, slopes = [], []
        for level in range(size):
            idx = ranks.perm[ranks.bounds[level] : ranks.bounds[level + 1]]
            note = []
            if events[level] == 0 or events[level] == n[level]:
                note.append("one class only: AUROC undefined")
            elif auc_bad[level]:
                note.append(undefined_note("AUROC", int(auc_bad[level]), n_bootstraps))
            slope = np.nan
            if min(events[level], n[level] - events[level]) < MIN_EVENTS_FOR_SLOPE:
                note.append(
                    f"calibration slope needs >= {MIN_EVENTS_FOR_SLOPE} events and "
                    "non-events"
                )
            else:
                slope = fit_logistic(s.x[idx], s.y[idx])[1]
                if np.isnan(slope):
                    note.append("calibration slope did not converge")
            slopes.append(slope)
            notes.append("; ".join(note))
        with np.errstate(divide="ignore", invalid="ignore"):
            frames.append(
                _level_frame(
                    col,
                    levels,
                    {
                        "n": n,
                        "events": events.astype(np.int64),
                        "prevalence": events / n,
                        "auroc": est[f"auroc:{j}"],
                        "auroc_ci_low": auc_low,
                        "auroc_ci_high": auc_high,
                        "brier": np.bincount(codes, (s.p - s.y) ** 2, size) / n,
                        "observed_expected": est[f"oe:{j}"],
                        "observed_expected_ci_low": oe_low,
                        "observed_expected_ci_high": oe_high,
                        "calibration_slope": slopes,
                        "note": notes,
                    },
                )
            )
    return _concat(frames, _BY_GROUP_COLUMNS)


def thresholds_by_group(s, cuts, rules, values, sorted_groups) -> pd.DataFrame:
    frames = []
    for col, codes, levels in sorted_groups:
        size, n, events = _level_counts(codes, levels, s.y)
        for rule, value, k in zip(rules, values, cuts, strict=True):
            flagged = np.bincount(codes[:k], minlength=size)
            tp = np.bincount(codes[:k], s.y[:k], size)
            with np.errstate(divide="ignore", invalid="ignore"):
                frames.append(
                    _level_frame(
                        col,
                        levels,
                        {
                            "rule": rule,
                            "value": value,
                            "n_flagged": flagged,
                            "share_of_level_flagged": flagged / n,
                            "share_of_flagged": flagged / max(k, 1),
                            "ppv": tp / flagged,
                            "sensitivity": tp / events,
                        },
                    )
                )
    return _concat(frames, _THRESHOLDS_BY_GROUP_COLUMNS)


_BY_GROUP_COLUMNS = [
    "group", "level", "n", "events", "prevalence", "auroc", "auroc_ci_low",
    "auroc_ci_high", "brier", "observed_expected", "observed_expected_ci_low",
    "observed_expected_ci_high", "calibration_slope", "note",
]  # fmt: skip
_THRESHOLDS_BY_GROUP_COLUMNS = [
    "group", "level", "rule", "value", "n_flagged", "share_of_level_flagged",
    "share_of_flagged", "ppv", "sensitivity",
]  # fmt: skip


def _level_counts(
    codes: np.ndarray, levels: list, y: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """Number of levels, and people and events per level, of one grouping column."""
    size = len(levels)
    return size, np.bincount(codes, minlength=size), np.bincount(codes, y, size)


def _level_frame(col: str, levels: list, columns: dict) -> pd.DataFrame:
    """One row per level of grouping column ``col``: group, level, then ``columns``."""
    return pd.DataFrame(
        {"group": col, "level": pd.Series(levels, dtype=object), **columns}
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]
