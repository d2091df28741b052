"""References for a model on synthetic data: the observable ceiling and paired AUROCs.

The *oracle* is each person's true risk (:meth:`Truth.true_risk`): what a model
could reach knowing everything the generator knows. The *observable ceiling* is
the true risk regressed on the features a model sees, cross-fitted: what the
records allow. ``oracle - ceiling`` is what the records hide, ``ceiling - model``
what the model leaves (decision 0009). :func:`auroc_table` gives every AUROC and
every difference asked for with a paired bootstrap interval (the same resampled
people for both sides of a difference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["auroc_table", "observable_ceiling"]


def observable_ceiling(
    features: Any,
    true_risk: Any,
    *,
    n_splits: int = 5,
    n_estimators: int = 600,
    learning_rate: float = 0.05,
    min_child_samples: int = 100,
    random_state: int = 0,
) -> np.ndarray:
    """Out-of-fold prediction of the true risk from the observed features.

    A LightGBM regression with a cross-entropy objective (the target is a
    probability) is fitted on ``n_splits - 1`` folds and predicts the held-out
    fold, so nobody's prediction comes from a fit that saw them. With one row per
    person the folds split by person.

    Parameters
    ----------
    features : array-like of shape (n, p)
        Numeric features as the model sees them (e.g. the risk model's encoded
        matrix); missing values are allowed.
    true_risk : array-like of shape (n,)
        Each person's true risk in [0, 1] (a Monte Carlo estimate is fine: its
        noise averages out in the regression).
    n_splits : int, default=5
    n_estimators, learning_rate, min_child_samples : LightGBM settings
        The benchmark's defaults; fewer, faster trees (e.g. 150 at 0.15) lose
        little on a few tens of thousands of people.
    random_state : int, default=0
        Seeds the folds and the trees.

    Returns
    -------
    numpy.ndarray of shape (n,)
        The cross-fitted ceiling.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2_000, 2))
    >>> risk = 1 / (1 + np.exp(2 - X[:, 0]))  # depends on the first feature only
    >>> c = observable_ceiling(X, risk, n_splits=3, n_estimators=100)
    >>> bool(np.corrcoef(c, risk)[0, 1] > 0.95)
    True
    """
    import lightgbm as lgb
    from sklearn.model_selection import KFold

    X = np.asarray(features, dtype=float)
    r = np.asarray(true_risk, dtype=float)
    if X.ndim != 2 or r.shape != (X.shape[0],):
        raise ValueError(
            f"`features` must be (n, p) and `true_risk` (n,); got {X.shape} and "
            f"{r.shape}."
        )
    if not np.all((r >= 0) & (r <= 1)):
        raise ValueError("`true_risk` must lie in [0, 1].")
    out = np.empty(r.size)
    folds = KFold(n_splits, shuffle=True, random_state=random_state)
    for fit, held in folds.split(X):
        reg = lgb.LGBMRegressor(
            objective="cross_entropy",
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            num_leaves=31,
            min_child_samples=min_child_samples,
            random_state=random_state,
            n_jobs=1,
            verbose=-1,
        )
        reg.fit(X[fit], r[fit])
        out[held] = reg.predict(X[held])
    return out


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count one half, as ``roc_auc_score``)."""
    from scipy.stats import rankdata

    ranks = rankdata(s)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _score_auroc(y: np.ndarray, s: np.ndarray) -> float:
    """AUROC of a score, or the path-noise-free AUROC of a two-column estimate.

    For two independent half estimates ``h1, h2`` of the same risk (each from
    ``k`` paths), path noise lowers the AUROC by about ``c / k`` (issue 13: 1, 8,
    32, 256 paths gave 0.7645, 0.7802, 0.7815, 0.7819 — ``c`` within 10 % from 8
    paths on). Richardson extrapolation removes it:
    ``A(inf) = 2 A(mean of both) - (A(h1) + A(h2)) / 2``. The law holds while the
    noise costs a few thousandths; where it costs several hundredths (a path or
    two per half) the extrapolation removes only part of it.
    """
    if s.ndim == 1:
        return _auroc(y, s)
    full = _auroc(y, s.mean(axis=1))
    return 2 * full - (_auroc(y, s[:, 0]) + _auroc(y, s[:, 1])) / 2


def auroc_table(
    y_true: Any,
    scores: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]] = (),
    *,
    n_bootstraps: int = 100,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """AUROC of each score and of each paired difference, with bootstrap intervals.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        1 for an event, 0 otherwise; both must occur.
    scores : mapping of str to array-like of shape (n,) or (n, 2)
        One score per name. A two-column score holds two independent half
        estimates of a Monte Carlo risk (``true_risk_half_1``, ``_2`` of
        :meth:`Truth.true_risk` with ``halves=True``); its AUROC is extrapolated
        to infinitely many paths (``2 A(mean) - mean(A(half))``, path noise
        lowering the AUROC by about ``c / paths``).
    pairs : sequence of (str, str)
        Differences ``AUROC(a) - AUROC(b)`` to report.
    n_bootstraps : int, default=100
        People resampled with replacement; every score and difference is
        computed on the same resamples (paired). 100 resamples put the 2.5 %
        and 97.5 % quantiles of a difference within about 0.1 of its standard error.
    confidence_level : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    DataFrame
        ``what`` (a name or ``"a - b"``), ``auroc`` (the point estimate, or the
        difference), ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    >>> good = np.array([0.1, 0.2, 0.8, 0.7, 0.3, 0.9, 0.4, 0.6])
    >>> weak = np.array([0.5, 0.2, 0.4, 0.7, 0.6, 0.9, 0.1, 0.3])
    >>> t = auroc_table(y, {"good": good, "weak": weak}, [("good", "weak")],
    ...                 n_bootstraps=20)
    >>> t["what"].tolist(), t["auroc"].round(4).tolist()
    (['good', 'weak', 'good - weak'], [1.0, 0.75, 0.25])
    """
    y = np.asarray(y_true).astype(int)
    arrays = {k: np.asarray(v, dtype=float) for k, v in scores.items()}
    for name, s in arrays.items():
        if s.shape[0] != y.size or s.ndim not in (1, 2):
            raise ValueError(
                f"Score {name!r} has shape {s.shape}; expected ({y.size},)."
            )
    if y.min() == y.max():
        raise ValueError("`y_true` must hold both events and non-events.")
    for a, b in pairs:
        for name in (a, b):
            if name not in arrays:
                raise ValueError(
                    f"Pair ({a!r}, {b!r}) names an unknown score {name!r}."
                )
    point = {k: _score_auroc(y, s) for k, s in arrays.items()}
    reps: dict[str, list[float]] = {k: [] for k in arrays}
    rng = np.random.default_rng(random_state)
    for _ in range(n_bootstraps):
        i = rng.integers(0, y.size, y.size)
        yi = y[i]
        if yi.min() == yi.max():
            continue
        for k, s in arrays.items():
            reps[k].append(_score_auroc(yi, s[i]))
    alpha = (1 - confidence_level) / 2
    rows = []

    def interval(values: np.ndarray) -> tuple[float, float]:
        if values.size == 0:
            return (np.nan, np.nan)
        lo, hi = np.quantile(values, [alpha, 1 - alpha])
        return float(lo), float(hi)

    for k in arrays:
        lo, hi = interval(np.asarray(reps[k]))
        rows.append({"what": k, "auroc": point[k], "ci_low": lo, "ci_high": hi})
    for a, b in pairs:
        lo, hi = interval(np.asarray(reps[a]) - np.asarray(reps[b]))
        rows.append(
            {
                "what": f"{a} - {b}",
                "auroc": point[a] - point[b],
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return pd.DataFrame(rows)
