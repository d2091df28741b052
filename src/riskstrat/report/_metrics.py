"""Point estimates over a sample sorted by descending score.

Everything here works on :class:`SortedSample` (people sorted once by score, highest
first, with runs of tied scores marked) so that cut-offs never split a tie and the
results do not depend on the row order of the input. The bootstrap replicates live in
``_bootstrap.py``; this module holds what is only estimated once: the logistic
calibration fits, the smoothed calibration curve with its E-statistics, ROC points,
the decision curve and the cut positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-9  # scores are clipped to [_EPS, 1 - _EPS] before taking logits
SMOOTHER_BINS = 200  # at most this many rank bins feed the calibration smoother
SMOOTHER_MIN_BIN = 10  # people per bin at least, so no bin describes one person
SMOOTHER_SPAN = 0.3  # share of the bins in each tricube neighbourhood
_ROC_GRID = np.unique(np.r_[np.linspace(0, 1, 401), np.geomspace(1e-4, 0.05, 60)])


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of ``p`` clipped to ``[1e-9, 1 - 1e-9]``.

    Examples
    --------
    >>> logit(np.array([0.5, 0.0])).round(2).tolist()
    [0.0, -20.72]
    """
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def expit(z: np.ndarray) -> np.ndarray:
    """Inverse logit, written with ``tanh`` so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS (threaded BLAS crawls on a busy 2-core machine)."""
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class SortedSample:
    """Scores sorted highest first, with outcomes and tie runs.

    Attributes
    ----------
    order : ndarray of int
        Positions in the input, highest score first (stable, so ties keep input order).
    p, y, x : ndarray of float
        Sorted scores, outcomes (0.0/1.0) and ``logit(p)``.
    run_end : ndarray of int
        For each sorted row, one past the last row with the same score.
    """

    order: np.ndarray
    p: np.ndarray
    y: np.ndarray
    x: np.ndarray
    run_end: np.ndarray

    @classmethod
    def from_arrays(cls, y: np.ndarray, p: np.ndarray) -> SortedSample:
        """Sort ``p`` descending (stably) and mark runs of equal scores."""
        order = np.argsort(-p, kind="stable")
        ps = p[order]
        new = np.r_[True, ps[1:] != ps[:-1]]
        starts = np.flatnonzero(new)
        ends = np.r_[starts[1:], ps.size]
        run_end = ends[np.cumsum(new) - 1]
        return cls(order, ps, y[order].astype(np.float64), logit(ps), run_end)

    @property
    def n(self) -> int:
        """Number of people."""
        return int(self.p.size)

    def snap(self, k: np.ndarray) -> np.ndarray:
        """Move cut counts ``k`` (people flagged from the top) to the end of a tie."""
        k = np.asarray(k, dtype=np.int64)
        return np.where(k > 0, self.run_end[np.maximum(k, 1) - 1], 0)

    def top_counts(self, shares: np.ndarray) -> np.ndarray:
        """People flagged when flagging a share from the top, ties included."""
        return self.snap(np.ceil(np.asarray(shares) * self.n - 1e-9).astype(np.int64))

    def counts_at_least(self, thresholds: np.ndarray) -> np.ndarray:
        """People with a score at or above each probability threshold."""
        return np.searchsorted(-self.p, -np.asarray(thresholds), side="right")

    def rank_bins(self, n_bins: int) -> np.ndarray:
        """Bin edges (counts from the top) for ``n_bins`` equal-size rank bins.

        Edges are snapped to tie ends and deduplicated, so ties never straddle two
        bins and there may be fewer than ``n_bins`` bins. Bin 0 is the highest risk.
        """
        k = np.round(np.arange(1, n_bins) * self.n / n_bins).astype(np.int64)
        return np.unique(np.r_[0, self.snap(k), self.n])


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    fit_slope: bool = True,
    max_iter: int = 50,
) -> tuple[float, float]:
    """Unpenalised logistic regression of ``y`` on ``x`` by Newton–Raphson.

    ``fit_slope=False`` fits ``logit P(y=1) = a + x`` (``x`` as an offset). Steps
    are halved until the log-likelihood does not decrease. Returns ``(a, b)``;
    ``(nan, nan)`` when ``y`` has one class or the fit does not converge (complete
    separation).

    Examples
    --------
    >>> x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, -0.5, 0.5, 1.5])
    >>> y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    >>> [round(v, 3) for v in fit_logistic(x, y)]
    [-0.253, 1.152]
    """
    if y.size == 0 or y.min() == y.max():
        return (np.nan, np.nan)
    theta = np.array([0.0, 1.0])
    dot = _dot

    def loglik(t: np.ndarray) -> float:
        eta = t[0] + t[1] * x
        return float(dot(y, eta) - np.logaddexp(0.0, eta).sum())

    current = loglik(theta)
    for _ in range(max_iter):
        q = expit(theta[0] + theta[1] * x)
        r, v = y - q, q * (1 - q)
        vx = v * x
        grad = np.array([r.sum(), dot(r, x)])
        hess = np.array([[v.sum(), vx.sum()], [vx.sum(), dot(vx, x)]])
        if fit_slope:
            if abs(np.linalg.det(hess)) < 1e-300:
                break
            step = np.linalg.solve(hess, grad)
        else:
            step = np.array([grad[0] / hess[0, 0], 0.0])
        for _ in range(30):
            candidate = loglik(theta + step)
            if candidate >= current - 1e-12 * abs(current):
                break
            step = step / 2
        theta, current = theta + step, candidate
        if np.max(np.abs(step)) < 1e-9:
            return (float(theta[0]), float(theta[1]))
    return (np.nan, np.nan)


def smooth_calibration(s: SortedSample) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Smoothed calibration curve on rank bins and each person's distance from it.

    People are grouped into at most :data:`SMOOTHER_BINS` equal-size rank bins of
    at least :data:`SMOOTHER_MIN_BIN` people (ties kept together). The bin means
    of the residual ``y - p`` are smoothed against the bin mean of ``logit(p)`` by
    local linear regression with tricube weights (times the bin size) over the
    nearest ``SMOOTHER_SPAN`` of the bins.
    Smoothing the residual rather than ``y`` means a calibrated model has no
    smoothing bias. The curve is ``clip(p + m(logit p), 0, 1)``, interpolated
    linearly in ``logit p`` between bin centres for each person.

    Returns
    -------
    curve : dict of ndarray
        ``predicted`` (bin mean score), ``observed_smoothed``, ``observed`` (raw bin
        rate) and ``n`` per bin, lowest risk first.
    distance : ndarray
        ``|curve(p_i) - p_i|`` for every person (the ICI integrand).
    """
    edges = s.rank_bins(int(np.clip(s.n // SMOOTHER_MIN_BIN, 1, SMOOTHER_BINS)))
    sizes = np.diff(edges).astype(np.float64)
    sums = np.add.reduceat(np.column_stack([s.p, s.y, s.x]), edges[:-1], axis=0)
    p_bar, y_bar, x_bar = (sums / sizes[:, None]).T
    resid = y_bar - p_bar
    k = len(sizes)
    dist = np.abs(x_bar[:, None] - x_bar[None, :])
    reach = max(2, int(np.ceil(SMOOTHER_SPAN * k)))
    h = np.sort(dist, axis=1)[:, min(reach, k) - 1] * (1 + 1e-6)
    h = np.where(h > 0, h, 1.0)
    u = np.clip(dist / h[:, None], 0, 1)
    wts = (1 - u**3) ** 3 * sizes[None, :]
    tot = wts.sum(axis=1)
    xm = wts @ x_bar / tot
    rm = wts @ resid / tot
    dx = x_bar[None, :] - xm[:, None]
    sxx = (wts * dx**2).sum(axis=1)
    sxr = (wts * dx * (resid[None, :] - rm[:, None])).sum(axis=1)
    slope = np.divide(sxr, sxx, out=np.zeros_like(sxr), where=sxx > 1e-12 * tot)
    fitted = rm + slope * (x_bar - xm)
    curve = {
        "predicted": p_bar[::-1],
        "observed_smoothed": np.clip(p_bar + fitted, 0, 1)[::-1],
        "observed": y_bar[::-1],
        "n": sizes[::-1].astype(np.int64),
    }
    m_i = np.interp(s.x, x_bar[::-1], fitted[::-1])
    return curve, np.abs(np.clip(s.p + m_i, 0, 1) - s.p)


def roc_points(s: SortedSample) -> dict[str, np.ndarray]:
    """Exact ROC points at tie ends, kept at a fixed grid of shares flagged.

    At most ``len(_ROC_GRID)`` rows (denser in the top 5 %), whatever the sample
    size, so the table never holds one row per person. The first row is the
    origin (nobody flagged, threshold ``inf``).
    """
    ends = np.unique(s.run_end)
    keep = np.unique(
        ends[np.minimum(np.searchsorted(ends, _ROC_GRID * s.n), ends.size - 1)]
    )
    cum_tp = np.cumsum(s.y)[keep - 1]
    events = s.y.sum()
    return {
        "share_flagged": np.r_[0.0, keep / s.n],
        "threshold": np.r_[np.inf, s.p[keep - 1]],
        "fpr": np.r_[0.0, (keep - cum_tp) / (s.n - events)],
        "tpr": np.r_[0.0, cum_tp / events],
    }


def net_benefit(s: SortedSample, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Decision curve: net benefit of flagging ``p >= t`` for each threshold ``t``.

    ``NB = TP/n - FP/n * t / (1 - t)`` (Vickers & Elkin 2006); treat-all flags
    everyone, treat-none nobody (net benefit 0).

    Examples
    --------
    >>> s = SortedSample.from_arrays(np.array([1, 0, 1, 0]), np.array([.9, .6, .3, .1]))
    >>> net_benefit(s, np.array([0.5]))["model"].tolist()  # 1/4 - 1/4 * 1
    [0.0]
    """
    k = s.counts_at_least(thresholds)
    cum_tp = np.r_[0.0, np.cumsum(s.y)]
    tp = cum_tp[k]
    odds = thresholds / (1 - thresholds)
    prevalence = cum_tp[-1] / s.n
    return {
        "model": tp / s.n - (k - tp) / s.n * odds,
        "treat_all": prevalence - (1 - prevalence) * odds,
        "treat_none": np.zeros_like(thresholds, dtype=np.float64),
    }
