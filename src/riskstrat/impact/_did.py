"""Difference in differences of pooled rates, and its bootstrap over matched sets.

Each matched set ``i`` contributes its enrolled person's events and person-days
before and after the date, and the mean of its controls' (each control weighs
``1 / k_i``, ``k_i`` the controls found). With ``R`` a pooled rate per
person-year (sum of events over sum of person-years):

``naive = R_T,post - R_T,pre``; ``did = naive - (R_C,post - R_C,pre)``;
``counterfactual = R_T,pre + (R_C,post - R_C,pre)`` (the enrolled group's rate
had nobody enrolled), ``relative = did / counterfactual``.

:func:`bootstrap` resamples matched sets with replacement (an enrolled person
with their controls), so the dependence between a person's two periods is kept;
it is vectorised as a matrix of multinomial counts. It treats a control shared
by many sets as independent draws, which makes the interval too narrow for
matching with replacement (Abadie and Imbens 2008).
:func:`bootstrap_two_sample` (the estimator's default) resamples the enrolled
and, apart, each control person with their total weight.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLUMNS", "bootstrap", "bootstrap_two_sample", "did"]

#: Columns of the per-set matrix, in order.
COLUMNS = (
    "t_pre_events",
    "t_pre_days",
    "t_post_events",
    "t_post_days",
    "c_pre_events",
    "c_pre_days",
    "c_post_events",
    "c_post_days",
)

_YEAR = 365.25


def did(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Rates and contrasts from summed columns (:data:`COLUMNS`, last axis).

    Parameters
    ----------
    sums : ndarray, shape (8,) or (B, 8)
        Column sums over matched sets (for one sample or ``B`` resamples).

    Returns
    -------
    dict
        ``t_pre``, ``t_post``, ``c_pre``, ``c_post`` (per person-year),
        ``naive``, ``did``, ``counterfactual`` and ``relative``.

    Examples
    --------
    The enrolled went from 2.0 to 1.0 a year, controls from 2.0 to 1.5:

    >>> s = np.array([2, 365.25, 1, 365.25, 4, 730.5, 3, 730.5])
    >>> r = did(s)
    >>> float(r["naive"]), float(r["did"]), float(r["relative"])
    (-1.0, -0.5, -0.3333333333333333)
    """
    s = np.asarray(sums, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_pre = s[..., 0] / s[..., 1] * _YEAR
        t_post = s[..., 2] / s[..., 3] * _YEAR
        c_pre = s[..., 4] / s[..., 5] * _YEAR
        c_post = s[..., 6] / s[..., 7] * _YEAR
        naive = t_post - t_pre
        effect = naive - (c_post - c_pre)
        counterfactual = t_pre + (c_post - c_pre)
        relative = effect / counterfactual
    return {
        "t_pre": t_pre,
        "t_post": t_post,
        "c_pre": c_pre,
        "c_post": c_post,
        "naive": naive,
        "did": effect,
        "counterfactual": counterfactual,
        "relative": relative,
    }


def resample_counts(rng: np.random.Generator, n: int, *, size: int | None = None):
    """How often each of ``n`` units is drawn in a resample with replacement.

    Floats; ``size`` resamples give shape ``(size, n)``.

    >>> resample_counts(np.random.default_rng(0), 4).sum()
    np.float64(4.0)
    """
    return rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)


def bootstrap(
    per_set: np.ndarray, *, n_bootstraps: int, random_state: int
) -> dict[str, np.ndarray]:
    """:func:`did` on ``n_bootstraps`` resamples of the matched sets.

    Parameters
    ----------
    per_set : ndarray, shape (n_sets, 8) or (n_sets, n_outcomes, 8)
        One row per matched set (:data:`COLUMNS`).
    n_bootstraps : int
    random_state : int
        The same seed gives the same resamples (and the same intervals).

    Returns
    -------
    dict
        As :func:`did`, each an array with a first axis of ``n_bootstraps``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = rng.poisson(3, size=(50, 8)).astype(float) + 1
    >>> a = bootstrap(m, n_bootstraps=200, random_state=1)["did"]
    >>> b = bootstrap(m, n_bootstraps=200, random_state=1)["did"]
    >>> a.shape, bool((a == b).all())
    ((200,), True)
    """
    m = np.asarray(per_set, dtype=float)
    rng = np.random.default_rng(random_state)
    counts = resample_counts(rng, m.shape[0], size=n_bootstraps)
    sums = np.tensordot(counts, m, axes=(1, 0))  # (B, ..., 8)
    return did(sums)


def bootstrap_two_sample(
    enrolled: np.ndarray,
    controls: np.ndarray,
    *,
    n_bootstraps: int,
    random_state: int,
) -> dict[str, np.ndarray]:
    """:func:`did` on resamples of the enrolled and, apart, of the controls.

    ``enrolled`` holds one row per matched set (the enrolled person's columns,
    and any per-set adjustment of the control columns); ``controls`` one row
    per control *person*, their columns already multiplied by their total
    weight over every set they serve. Both are resampled with replacement,
    independently: a control who serves many sets then weighs on the
    interval as much as on the estimate, which the resampling of whole sets
    misses (Abadie and Imbens, 2008).

    Parameters
    ----------
    enrolled : ndarray, shape (n_sets, ..., 8)
    controls : ndarray, shape (n_controls, ..., 8)
    n_bootstraps : int
    random_state : int

    Returns
    -------
    dict
        As :func:`did`, each an array with a first axis of ``n_bootstraps``.

    Examples
    --------
    >>> t = np.array([[2, 365.25, 1, 365.25, 0, 0, 0, 0]] * 3, dtype=float)
    >>> c = np.array([[0, 0, 0, 0, 2, 365.25, 2, 365.25]] * 4, dtype=float)
    >>> r = bootstrap_two_sample(t, c, n_bootstraps=5, random_state=0)
    >>> r["did"].round(6).tolist()
    [-1.0, -1.0, -1.0, -1.0, -1.0]
    """
    t = np.asarray(enrolled, dtype=float)
    c = np.asarray(controls, dtype=float)
    rng = np.random.default_rng(random_state)
    ct = resample_counts(rng, t.shape[0], size=n_bootstraps)
    cc = resample_counts(rng, c.shape[0], size=n_bootstraps)
    sums = np.tensordot(ct, t, axes=(1, 0)) + np.tensordot(cc, c, axes=(1, 0))
    return did(sums)
