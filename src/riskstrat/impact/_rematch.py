"""A bootstrap that re-does the matching and the regression adjustment.

Each replicate resamples the enrolled (as people) and, independently, the
control pool (as people: one count per person, shared by every date they are a
candidate on), then matches again — every enrolled person drawn takes the ``k``
nearest *drawn* candidates of their own ranked list, a candidate drawn twice
filling two places — refits the regression adjustment on the replicate's
matched controls and recomputes the difference in differences. The ranked lists
(each enrolled person's candidates within the caliper, nearest first, ties by
patient id) come from the same matching as the estimate, so with every count
at 1 a replicate *is* the estimate (:func:`replicate` tests that).

The per-date score model and the scales (caliper, covariate SDs) are kept
fixed: the score is fitted on other people and another year (decision 0016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstrat.impact._adjust import fit_adjustment
from riskstrat.impact._did import did, resample_counts

__all__ = ["Pool", "rematch_bootstrap", "replicate"]

_YEAR = 365.25


@dataclass(frozen=True)
class Pool:
    """Everything a replicate needs, as arrays.

    Attributes
    ----------
    enrolled : ndarray, shape (n_sets, n_outcomes, 4)
        Each enrolled person's ``pre_events, pre_days, post_events, post_days``.
    ranked : ndarray of int, shape (n_sets, L)
        Row of :attr:`pairs` of each enrolled person's candidates, nearest
        first; ``-1`` pads a list shorter than ``L``.
    pairs : ndarray, shape (n_pairs, n_outcomes, 4)
        Each candidate's outcomes in the windows of that enrolled person's date.
    person : ndarray of int, shape (n_pairs,)
        The candidate person of each pair (index into the control people).
    n_people : int
        Control people (the size of the control resample).
    x_enrolled : ndarray, shape (n_sets, p)
        Covariates of the regression adjustment, of the enrolled.
    x_pairs : ndarray, shape (n_pairs, p)
        The same covariates of each candidate on that date (``p`` may be 0).
    """

    enrolled: np.ndarray
    ranked: np.ndarray
    pairs: np.ndarray
    person: np.ndarray
    n_people: int
    x_enrolled: np.ndarray
    x_pairs: np.ndarray


def _adjust(
    cs: np.ndarray,
    share: np.ndarray,
    rows: np.ndarray,
    wt: np.ndarray,
    pool: Pool,
) -> None:
    """Regression adjustment of the set-level control sums ``cs`` (in place).

    Per outcome and period, a weighted ridge fit
    (:func:`~riskstrat.impact._adjust.fit_adjustment`) of the matched
    controls' rate per person-year on the covariates (weights: the pair's
    weight times its person-days); each set's control events move by
    ``beta . (x_enrolled - mean x of its controls) * control person-years``.
    """
    p = pool.x_pairs.shape[1]
    if p == 0:
        return
    ok = rows >= 0
    r = np.where(ok, rows, 0)
    pair_w = wt[:, None] * share  # (n_sets, L): how often each pair counts
    used = ok & (pair_w > 0)
    pr = r[used]
    w_used = pair_w[used]
    x_used = pool.x_pairs[pr]
    xc = np.einsum("il,ilp->ip", np.where(ok, share, 0.0), pool.x_pairs[r])
    dx = pool.x_enrolled - xc
    for j in range(cs.shape[1]):
        for col in (0, 2):
            days = pool.pairs[pr, j, col + 1]
            good = days > 0
            y = pool.pairs[pr, j, col][good] / days[good] * _YEAR
            beta = fit_adjustment(x_used[good], y, w_used[good] * days[good])
            cs[:, j, col] += (dx @ beta) * cs[:, j, col + 1] / _YEAR


def replicate(
    pool: Pool,
    wt: np.ndarray,
    wc: np.ndarray,
    *,
    k: int,
    adjust: bool = True,
) -> np.ndarray:
    """Column sums (:data:`~riskstrat.impact._did.COLUMNS`) of one replicate.

    Parameters
    ----------
    pool : Pool
    wt : ndarray, shape (n_sets,)
        How many times each enrolled person is drawn.
    wc : ndarray, shape (n_people,)
        How many times each control person is drawn.
    k : int
        Controls per enrolled person.
    adjust : bool, default=True
        Refit and apply the regression adjustment.

    Returns
    -------
    ndarray, shape (n_outcomes, 8)
        Enrolled people left with no drawn candidate drop out of the replicate
        (as the unmatched drop out of the estimate).

    Examples
    --------
    One enrolled person (2 admissions before, 1 after) with three candidates;
    with ``k=2`` the two nearest (2 -> 2 and 2 -> 1 a year) are its controls:

    >>> y = 365.25
    >>> pool = Pool(enrolled=np.array([[[2, y, 1, y]]]), ranked=np.array([[0, 1, 2]]),
    ...     pairs=np.array([[[2, y, 2, y]], [[2, y, 1, y]], [[2, y, 0, y]]]),
    ...     person=np.array([0, 1, 2]), n_people=3,
    ...     x_enrolled=np.zeros((1, 0)), x_pairs=np.zeros((3, 0)))
    >>> s = replicate(pool, np.ones(1), np.ones(3), k=2)
    >>> float(did(s)["did"][0])
    -0.5

    Drawing the nearest candidate twice makes it both controls:

    >>> float(did(replicate(pool, np.ones(1), np.array([2, 0, 1]), k=2))["did"][0])
    -1.0
    """
    rows = pool.ranked
    ok = rows >= 0
    r = np.where(ok, rows, 0)
    m = np.where(ok, wc[pool.person[r]], 0).astype(float)
    cum = np.cumsum(m, axis=1)
    take = np.clip(k - (cum - m), 0, m)
    total = take.sum(axis=1)
    wt = np.where(total > 0, wt, 0.0).astype(float)
    share = np.divide(
        take, total[:, None], out=np.zeros_like(take), where=total[:, None] > 0
    )
    cs = np.einsum("il,ilcq->icq", share, pool.pairs[r])  # (n_sets, n_out, 4)
    if adjust:
        _adjust(cs, share, rows, wt, pool)
    t = np.tensordot(wt, pool.enrolled, axes=(0, 0))
    c = np.tensordot(wt, cs, axes=(0, 0))
    return np.concatenate([t, c], axis=-1)


def rematch_bootstrap(
    pool: Pool,
    *,
    k: int,
    n_bootstraps: int,
    random_state: int,
    adjust: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`~riskstrat.impact._did.did` over replicates that match again.

    Parameters
    ----------
    pool : Pool
    k : int
    n_bootstraps : int
    random_state : int
        The same seed gives the same replicates (and intervals).
    adjust : bool, default=True
        Refit the regression adjustment in every replicate.

    Returns
    -------
    dict
        As :func:`~riskstrat.impact._did.did`, each with a first axis of
        ``n_bootstraps``.
    """
    rng = np.random.default_rng(random_state)
    nt = pool.enrolled.shape[0]
    nc = pool.n_people
    sums = np.empty((n_bootstraps, pool.enrolled.shape[1], 8))
    for b in range(n_bootstraps):
        wt = resample_counts(rng, nt)
        wc = resample_counts(rng, nc)
        sums[b] = replicate(pool, wt, wc, k=k, adjust=adjust)
    return did(sums)
