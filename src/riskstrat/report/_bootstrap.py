"""Statistics as functions of person weights, and the percentile bootstrap over them.

Every statistic with a confidence interval is written as a function of a weight per
person (how many times the person was drawn). The estimate is the same function at
weight 1 for everyone, so estimate and replicates share one code path. A replicate
is a resample of ``n`` people with replacement, drawn as positions in the sorted
sample and turned into counts with ``np.bincount``; nothing is re-sorted, so a
replicate costs a few passes over ``n`` numbers (integer cumulative sums, and one
pass over a fixed matrix for the calibration refits) instead of a sort.

Replicate ``r`` uses its own generator, spawned from ``SeedSequence(random_state)``,
so the same seed gives the same resamples whatever else is computed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from riskstrat.report._metrics import SortedSample, expit

logger = logging.getLogger(__name__)

MIN_DEFINED_SHARE = 0.5  # a CI needs the statistic defined in half the replicates
NEWTON_STEP_TOL = 1e-2  # replicate refits stop after a step smaller than this
NEWTON_MAX_STEPS = 20


class RankSums:
    """Size, events, AUROC and AUPRC per level of a partition, for given weights.

    Within each level, people stay sorted by descending score (a stable sort on the
    level code). For a positive person ``i`` with weight ``w_i``, the negatives
    scored lower in the same level and those tied with ``i`` are read off
    cumulative sums, so AUROC (ties count one half, as in ``roc_auc_score``) and
    average precision (as in ``average_precision_score``) need no pairwise
    comparison and no re-sort.
    """

    def __init__(
        self,
        s: SortedSample,
        codes: np.ndarray | None = None,
        n_levels: int = 1,
    ) -> None:
        n = s.n
        self.n_levels = n_levels
        if codes is None:
            self.perm = None
            codes_c = np.zeros(n, dtype=np.int64)
            y, key, self.p = s.y, s.run_end, s.p
        else:
            self.perm = np.argsort(codes, kind="stable")
            codes_c = codes[self.perm]
            y, key, self.p = s.y[self.perm], s.run_end[self.perm], s.p[self.perm]
        new = np.r_[True, (codes_c[1:] != codes_c[:-1]) | (key[1:] != key[:-1])]
        starts = np.flatnonzero(new)
        run = np.cumsum(new) - 1
        self.pos = np.flatnonzero(y == 1)
        self.level = codes_c[self.pos]
        self.run_end = np.r_[starts[1:], n][run[self.pos]]
        self.run_start = starts[run[self.pos]]
        self.k_end = np.searchsorted(self.pos, self.run_end)
        self.k_start = np.searchsorted(self.pos, self.run_start)
        self.bounds = np.searchsorted(codes_c, np.arange(n_levels + 1))
        self.k_bounds = np.searchsorted(self.pos, self.bounds)

    def __call__(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Per-level ``n``, ``events``, ``auroc``, ``auprc`` and the cumulative sums.

        ``cum_w[k]`` is the weight of the first ``k`` people (in this partition's
        order) and ``cum_pos[j]`` that of the first ``j`` positives.
        """
        wc = w if self.perm is None else w[self.perm]
        cum_w = np.zeros(wc.size + 1, dtype=np.int64)
        np.cumsum(wc, out=cum_w[1:])
        w_pos = wc[self.pos]
        cum_pos = np.zeros(w_pos.size + 1, dtype=np.int64)
        np.cumsum(w_pos, out=cum_pos[1:])
        neg_bounds = cum_w[self.bounds] - cum_pos[self.k_bounds]
        neg_end = cum_w[self.run_end] - cum_pos[self.k_end]
        neg_start = cum_w[self.run_start] - cum_pos[self.k_start]
        lower = neg_bounds[1:][self.level] - neg_end
        auc_terms = w_pos * (lower + 0.5 * (neg_end - neg_start))
        tp = cum_pos[self.k_end] - cum_pos[self.k_bounds[:-1]][self.level]
        flagged = cum_w[self.run_end] - cum_w[self.bounds[:-1]][self.level]
        precision = np.divide(
            tp, flagged, out=np.zeros(tp.size), where=flagged > 0, dtype=np.float64
        )
        events = np.diff(cum_pos[self.k_bounds])
        negatives = np.diff(neg_bounds)
        size = self.n_levels
        with np.errstate(divide="ignore", invalid="ignore"):
            auroc = np.bincount(self.level, auc_terms, size) / (events * negatives)
            auprc = np.bincount(self.level, w_pos * precision, size) / events
        # Levels are never empty (codes come from pd.factorize), as reduceat needs.
        expected = np.add.reduceat(wc * self.p, self.bounds[:-1])
        return {
            "expected": expected,
            "n": np.diff(cum_w[self.bounds]),
            "events": events,
            "auroc": auroc,
            "auprc": auprc,
            "cum_w": cum_w,
            "cum_pos": cum_pos,
        }


class Statistics:
    """All statistics that get a bootstrap CI, as one function of person weights.

    Parameters
    ----------
    s : SortedSample
    cuts : ndarray of int
        People flagged (from the top) for each row of the thresholds table.
    decile_edges : ndarray of int
        Edges (counts from the top) of the risk deciles.
    bed_days : ndarray or None
        Sorted like ``s``.
    groups : sequence of (codes, n_levels)
        Integer level codes per grouping column, sorted like ``s``.
    slope_fit, intercept_fit : tuple of float
        Full-sample calibration fits ``(a, b)`` (``nan`` when undefined). A
        replicate refits by Newton steps started from them. The first step is
        cheap: at the full-sample fit the gradient and Hessian of the weighted
        log-likelihood are linear in the weights, so they come from one pass over
        a fixed ``(8, n)`` matrix. Further steps (a full pass each) are taken only
        while a step exceeds :data:`NEWTON_STEP_TOL`; the error left after a step
        is of the order of its square, so large samples mostly need one.
    """

    def __init__(
        self,
        s: SortedSample,
        *,
        cuts: np.ndarray,
        decile_edges: np.ndarray,
        bed_days: np.ndarray | None,
        groups: Sequence[tuple[np.ndarray, int]],
        slope_fit: tuple[float, float],
        intercept_fit: tuple[float, float],
    ) -> None:
        self.s = s
        self.overall = RankSums(s)
        self.cuts = cuts
        self.k_cuts = np.searchsorted(self.overall.pos, cuts)
        self.edges = decile_edges
        self.k_edges = np.searchsorted(self.overall.pos, decile_edges)
        self.groups = [RankSums(s, codes, n) for codes, n in groups]
        self.slope_fit, self.intercept_fit = slope_fit, intercept_fit
        a, b = (0.0, 1.0) if np.isnan(slope_fit[0]) else slope_fit
        c = 0.0 if np.isnan(intercept_fit[0]) else intercept_fit[0]
        q, qi = expit(a + b * s.x), expit(c + s.x)
        v, vi = q * (1 - q), qi * (1 - qi)
        self.linear = np.column_stack(
            [
                (s.p - s.y) ** 2,
                s.y - q,
                (s.y - q) * s.x,
                v,
                v * s.x,
                v * s.x**2,
                s.y - qi,
                vi,
            ]
        ).T.copy()
        self.bed = None
        if bed_days is not None:
            nz = np.flatnonzero(bed_days > 0)
            self.bed = (nz, bed_days[nz], np.searchsorted(nz, cuts))

    def __call__(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Every statistic for weights ``w`` (one per sorted person)."""
        n = float(self.s.n)
        # einsum, not BLAS: threaded BLAS crawls on a busy 2-core machine.
        sums = np.einsum("ij,j->i", self.linear, w.astype(np.float64))
        o = self.overall(w)
        events = o["events"]
        cum_w, cum_pos = o["cum_w"], o["cum_pos"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slope = self._refit(w, sums[1:6], self.slope_fit, fit_slope=True)[1]
            intercept = self._refit(w, sums[6:8], self.intercept_fit, fit_slope=False)[
                0
            ]
            tp = cum_pos[self.k_cuts]
            flagged = cum_w[self.cuts]
            out = {
                "prevalence": events / n,
                "auroc": o["auroc"],
                "auprc": o["auprc"],
                "brier": np.array([sums[0] / n]),
                "observed_expected": events / o["expected"],
                "calibration_intercept": np.array([intercept]),
                "calibration_slope": np.array([slope]),
                "ppv": tp / flagged,
                "sensitivity": tp / events,
                "decile_observed": (
                    np.diff(cum_pos[self.k_edges]) / np.diff(cum_w[self.edges])
                )[::-1],
            }
            if self.bed is not None:
                nz, days, k = self.bed
                cum_bed = np.r_[0.0, np.cumsum(w[nz] * days)]
                out["bed_day_share"] = cum_bed[k] / cum_bed[-1]
            for j, ranks in enumerate(self.groups):
                g = ranks(w)
                out[f"auroc:{j}"] = g["auroc"]
                out[f"oe:{j}"] = g["events"] / g["expected"]
        return out

    def _refit(
        self,
        w: np.ndarray,
        sums: np.ndarray,
        start: tuple[float, float],
        *,
        fit_slope: bool,
    ) -> tuple[float, float]:
        """Newton steps from ``start`` on weights ``w``; first step from ``sums``."""
        if np.isnan(start[0]):
            return (np.nan, np.nan)
        theta = np.array(start, dtype=np.float64)
        wf = None
        for _ in range(NEWTON_MAX_STEPS):
            if wf is not None:  # recompute gradient and Hessian at theta
                q = expit(theta[0] + theta[1] * self.s.x)
                r, v = self.s.y - q, q * (1 - q)
                parts = [r, r * self.s.x, v, v * self.s.x, v * self.s.x**2]
                sums = np.array([_dot(wf, a) for a in (parts if fit_slope else [r, v])])
            if fit_slope:
                hess = np.array([[sums[2], sums[3]], [sums[3], sums[4]]])
                if not abs(np.linalg.det(hess)) > 1e-300:
                    return (np.nan, np.nan)
                step = np.linalg.solve(hess, sums[:2])
            else:
                step = np.array([sums[0] / sums[1], 0.0])
            theta += step
            if not np.isfinite(theta).all():
                break
            if np.max(np.abs(step)) < NEWTON_STEP_TOL:
                return (float(theta[0]), float(theta[1]))
            wf = w.astype(np.float64)
        return (np.nan, np.nan)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.einsum("i,i->", a, b))


def resample_weights(
    n: int, n_bootstraps: int, random_state: int
) -> Iterator[np.ndarray]:
    """Counts of each of ``n`` people in each of ``n_bootstraps`` resamples.

    Examples
    --------
    >>> w = next(resample_weights(5, 1, random_state=0))
    >>> float(w.sum()), w.size
    (5.0, 5)
    """
    for child in np.random.SeedSequence(random_state).spawn(n_bootstraps):
        draws = np.random.default_rng(child).integers(0, n, size=n)
        yield np.bincount(draws, minlength=n)


def bootstrap(
    stats: Statistics, n_bootstraps: int, random_state: int
) -> dict[str, np.ndarray]:
    """Replicates of every statistic, stacked as ``(n_bootstraps, size)`` arrays."""
    reps: dict[str, list[np.ndarray]] = {}
    weights = resample_weights(stats.s.n, n_bootstraps, random_state)
    for r, w in enumerate(weights):
        for key, value in stats(w).items():
            reps.setdefault(key, []).append(np.atleast_1d(value))
        if (r + 1) % 50 == 0:
            logger.debug("bootstrap: %d of %d replicates", r + 1, n_bootstraps)
    return {key: np.vstack(v) for key, v in reps.items()}


def percentile_interval(
    reps: np.ndarray, confidence_level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval per column of ``reps``, ignoring undefined replicates.

    Returns ``(low, high, n_undefined)``. Where fewer than half the replicates are
    defined (a small group with no events in many resamples), the interval is
    ``nan``.

    Examples
    --------
    >>> reps = np.arange(101, dtype=float)[:, None]
    >>> low, high, bad = percentile_interval(reps, 0.9)
    >>> low.round(6).tolist(), high.round(6).tolist(), bad.tolist()
    ([5.0], [95.0], [0])
    """
    alpha = (1 - confidence_level) / 2
    finite = np.isfinite(reps)
    undefined = (~finite).sum(axis=0)
    width = reps.shape[1]
    low, high = np.full(width, np.nan), np.full(width, np.nan)
    if reps.shape[0] == 0:
        return low, high, undefined
    if finite.all():
        low, high = np.quantile(reps, [alpha, 1 - alpha], axis=0)
        return low, high, undefined
    for j in range(width):
        col = reps[finite[:, j], j]
        if col.size >= MIN_DEFINED_SHARE * reps.shape[0] and col.size > 0:
            low[j], high[j] = np.quantile(col, [alpha, 1 - alpha])
    return low, high, undefined
