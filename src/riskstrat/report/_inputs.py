"""Input checks for :func:`riskstrat.report.evaluate`.

Messages name the argument, the rule and the offending value (scikit-learn style).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

MISSING_LEVEL = "(missing)"


def _first_positions(mask: np.ndarray) -> str:
    where = np.flatnonzero(mask)
    plural = "s" if where.size > 1 else ""
    return f"{where.size} value{plural}, first at position {where[0]}"


def as_float_vector(values: Any, name: str) -> np.ndarray:
    """A 1-D float array from an array-like, refusing NaN and non-numbers.

    Examples
    --------
    >>> as_float_vector([0, 1, True], "y_true").tolist()
    [0.0, 1.0, 1.0]
    """
    if np.ndim(values) != 1:
        raise ValueError(
            f"The `{name}` parameter of evaluate must be 1-dimensional. Got an array "
            f"of shape {np.shape(values)} instead."
        )
    try:
        arr = pd.Series(values, copy=False).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(
            f"The `{name}` parameter of evaluate must be numeric. Got values of dtype "
            f"{np.asarray(values).dtype} instead."
        ) from None
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty; evaluate needs at least one person.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"`{name}` contains NaN or infinite values ({_first_positions(bad)})."
        )
    return arr


def check_outcome_and_scores(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``y_true`` (0/1, both classes) and ``scores`` (probabilities)."""
    y = as_float_vector(y_true, "y_true")
    p = as_float_vector(scores, "scores")
    if y.size != p.size:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"y_true has {y.size}, scores has {p.size}."
        )
    labels = np.unique(y)
    if not np.isin(labels, [0.0, 1.0]).all():
        shown = [v for v in labels.tolist() if v not in (0.0, 1.0)][:5]
        raise ValueError(
            f"`y_true` must contain only 0 and 1. Got other values {shown}."
        )
    if labels.size < 2:
        raise ValueError(
            f"`y_true` contains only one class ({int(labels[0])}); evaluate needs "
            "people with and without the outcome."
        )
    outside = (p < 0) | (p > 1)
    if outside.any():
        first = p[np.flatnonzero(outside)[0]]
        raise ValueError(
            "`scores` must be probabilities in [0, 1]; "
            f"{_first_positions(outside)} is outside (value {first:g})."
        )
    return y, p


def check_bed_days(bed_days: Any, n: int) -> np.ndarray | None:
    """Validate next-year emergency bed days (non-negative, one per person)."""
    if bed_days is None:
        return None
    b = as_float_vector(bed_days, "bed_days")
    if b.size != n:
        raise ValueError(f"`bed_days` has {b.size} values but y_true has {n}.")
    if (b < 0).any():
        raise ValueError(
            f"`bed_days` must be >= 0; {_first_positions(b < 0)} is negative."
        )
    return b


def check_groups(groups: Any, n: int) -> list[tuple[str, np.ndarray, list]]:
    """Turn ``groups`` into ``(column, codes, levels)``; missing values are a level.

    Levels are in their natural order (category order for categoricals), with
    :data:`MISSING_LEVEL` last.

    Examples
    --------
    >>> [(col, codes, levels)] = check_groups({"sex": ["m", None, "f"]}, 3)
    >>> col, codes.tolist(), levels
    ('sex', [1, 2, 0], ['f', 'm', '(missing)'])
    """
    if groups is None:
        return []
    if isinstance(groups, Mapping):
        for key, values in groups.items():
            if np.ndim(values) != 1 or len(values) != n:
                raise ValueError(
                    f"`groups[{key!r}]` must be 1-dimensional with one value per "
                    f"person ({n}). Got shape {np.shape(values)} instead."
                )
        frame = pd.DataFrame(
            {
                k: v.reset_index(drop=True)
                if isinstance(v, pd.Series)
                else pd.Series(v)
                for k, v in groups.items()
            }
        )
    elif isinstance(groups, pd.DataFrame):
        frame = groups
    else:
        raise TypeError(
            "The `groups` parameter of evaluate must be a DataFrame or a mapping of "
            f"column name to array. Got {type(groups).__name__} instead."
        )
    if len(frame) != n:
        raise ValueError(f"`groups` has {len(frame)} rows but y_true has {n}.")
    out = []
    for col in frame.columns:
        if not isinstance(col, str):
            raise TypeError(f"`groups` column names must be strings. Got {col!r}.")
        codes, uniques = pd.factorize(frame[col], sort=True, use_na_sentinel=True)
        levels = list(uniques)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(levels), codes)
            levels.append(MISSING_LEVEL)
        out.append((col, codes.astype(np.int64), [_plain(v) for v in levels]))
    return out


def _plain(value: Any) -> Any:
    """Numpy scalars as Python scalars (tables show ``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_shares(
    values: Sequence[float], name: str, *, closed_right: bool
) -> np.ndarray:
    """Validate top shares (0, 1] or probability thresholds (0, 1)."""
    arr = np.asarray(values if values is not None else [], dtype=np.float64).ravel()
    upper_ok = arr <= 1 if closed_right else arr < 1
    bad = ~((arr > 0) & upper_ok)
    if bad.any():
        interval = "(0, 1]" if closed_right else "(0, 1)"
        raise ValueError(
            f"The `{name}` parameter of evaluate must hold values in {interval}. "
            f"Got {arr[bad][0]:g} instead."
        )
    return np.unique(arr)


def check_settings(n_bootstraps: Any, confidence_level: Any, random_state: Any) -> None:
    """Validate the bootstrap settings."""
    _check_non_negative_int(n_bootstraps, "n_bootstraps")
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, numbers.Real)
        or not 0 < float(confidence_level) < 1
    ):
        raise ValueError(
            "The `confidence_level` parameter of evaluate must be a float in (0, 1). "
            f"Got {confidence_level!r} instead."
        )
    _check_non_negative_int(random_state, "random_state")


def _check_non_negative_int(value: Any, name: str) -> None:
    """Refuse anything but an int >= 0 (a bool is not a count or a seed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            f"The `{name}` parameter of evaluate must be an int >= 0. "
            f"Got {value!r} instead."
        )
