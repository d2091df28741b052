"""Groupings every stage reports by: age bands, and the "unknown" level."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "UNKNOWN", "age_band", "evaluation_groups", "group_label"]

#: Age bands used to disaggregate results: ``[lower, upper)`` in years.
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 18, "0-17"),
    (18, 45, "18-44"),
    (45, 65, "45-64"),
    (65, 75, "65-74"),
    (75, 85, "75-84"),
    (85, None, "85+"),
)

#: The level given to a missing locality, sex, decile or age: kept, never dropped.
UNKNOWN = "unknown"


def age_band(age) -> np.ndarray:
    """The :data:`AGE_BANDS` label of each age (``"unknown"`` where missing).

    Examples
    --------
    >>> age_band([17, 18, 64.0, 65, 90, None]).tolist()
    ['0-17', '18-44', '45-64', '65-74', '85+', 'unknown']
    """
    a = pd.to_numeric(pd.Series(list(age), dtype=object), errors="coerce").to_numpy(
        dtype=float
    )
    band = np.full(len(a), UNKNOWN, dtype=object)
    for lo, hi, label in AGE_BANDS:
        inside = (a >= lo) if hi is None else (a >= lo) & (a < hi)
        band[inside] = label
    return band


def group_label(values) -> list[str]:
    """Text labels for a grouping column, missing values as ``"unknown"``.

    Examples
    --------
    >>> group_label(["A", None, float("nan")])
    ['A', 'unknown', 'unknown']
    """
    return [UNKNOWN if pd.isna(v) else str(v) for v in values]


def evaluation_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The subgroups results are broken down by: age band, sex, deprivation, ...

    Parameters
    ----------
    frame : DataFrame
        A feature table (``age``, ``sex``, ``deprivation_decile``, ``locality``,
        ``care_home``).

    Returns
    -------
    DataFrame
        One column per grouping, on ``frame``'s index; missing values become the
        level ``"unknown"`` (a care-home flag the source cannot tell included).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"age": [30, 70, 90], "sex": ["female", "male", None],
    ...                   "deprivation_decile": [1, 5, None],
    ...                   "locality": ["A", "B", "A"],
    ...                   "care_home": [False, False, True]})
    >>> evaluation_groups(f)["age_band"].tolist()
    ['18-44', '65-74', '85+']
    >>> evaluation_groups(f)["care_home"].tolist()
    ['no', 'no', 'yes']
    """
    out = pd.DataFrame({"age_band": age_band(frame["age"])}, index=frame.index)
    out["sex"] = group_label(frame["sex"])
    out["deprivation_decile"] = [
        UNKNOWN if pd.isna(v) else f"{int(v):02d}" for v in frame["deprivation_decile"]
    ]
    out["locality"] = group_label(frame["locality"])
    out["care_home"] = [
        UNKNOWN if pd.isna(v) else ("yes" if bool(v) else "no")
        for v in frame["care_home"]
    ]
    return out
