"""Weighted statistics against scikit-learn, the one-step calibration bootstrap
against exact refits, seeded resamples and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from riskstrat.report._bootstrap import (
    RankSums,
    Statistics,
    percentile_interval,
    resample_weights,
)
from riskstrat.report._metrics import SortedSample, fit_logistic


def _statistics(s, groups=()):
    return Statistics(
        s,
        cuts=np.array([s.n // 10]),
        decile_edges=s.rank_bins(10),
        bed_days=None,
        groups=groups,
        slope_fit=fit_logistic(s.x, s.y),
        intercept_fit=fit_logistic(s.x, s.y, fit_slope=False),
    )


def test_weighted_auroc_and_auprc_match_sklearn_with_ties_and_groups():
    rng = np.random.default_rng(0)
    n = 3_000
    p = np.round(rng.beta(1, 6, n), 2)  # many ties
    y = (rng.random(n) < p).astype(float)
    codes = rng.integers(0, 4, n)
    s = SortedSample.from_arrays(y, p)
    w = next(resample_weights(n, 1, random_state=7))
    overall = RankSums(s)(w)
    ys, ps = s.y, s.p
    assert overall["auroc"][0] == pytest.approx(roc_auc_score(ys, ps, sample_weight=w))
    assert overall["auprc"][0] == pytest.approx(
        average_precision_score(ys, ps, sample_weight=w)
    )
    by = RankSums(s, codes[s.order], 4)(w)
    for level in range(4):
        m = codes[s.order] == level
        assert by["auroc"][level] == pytest.approx(
            roc_auc_score(ys[m], ps[m], sample_weight=w[m])
        )
        assert by["auprc"][level] == pytest.approx(
            average_precision_score(ys[m], ps[m], sample_weight=w[m])
        )
        assert by["n"][level] == w[m].sum() and by["events"][level] == (w * ys)[m].sum()
        assert by["expected"][level] == pytest.approx((w * ps)[m].sum())


def test_a_level_without_events_has_nan_auroc_silently():
    s = SortedSample.from_arrays(
        np.array([1.0, 0, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.2, 0.1])
    )
    codes = np.array([0, 0, 1, 0, 1])  # level 1 has no events
    out = RankSums(s, codes, 2)(np.ones(5, dtype=np.int64))
    assert out["auroc"][0] == 0.5 and np.isnan(out["auroc"][1])


def test_one_step_calibration_replicates_are_close_to_exact_refits(simulate):
    y, p = simulate(5_000, seed=1, distort=1.3)
    s = SortedSample.from_arrays(y.astype(float), p)
    stats = _statistics(s)
    for w in resample_weights(s.n, 3, random_state=2):
        rep = stats(w)
        x, yy = np.repeat(s.x, w), np.repeat(s.y, w)
        assert rep["calibration_slope"][0] == pytest.approx(
            fit_logistic(x, yy)[1], abs=1e-3
        )
        exact = fit_logistic(x, yy, fit_slope=False)[0]
        assert rep["calibration_intercept"][0] == pytest.approx(exact, abs=1e-3)


def test_statistics_at_unit_weights_are_the_plain_estimates(simulate):
    y, p = simulate(2_000, seed=3)
    s = SortedSample.from_arrays(y.astype(float), p)
    est = _statistics(s)(np.ones(s.n, dtype=np.int64))
    assert est["auroc"][0] == pytest.approx(roc_auc_score(y, p))
    assert est["brier"][0] == pytest.approx(np.mean((p - y) ** 2))
    assert est["observed_expected"][0] == pytest.approx(y.sum() / p.sum())
    assert est["calibration_slope"][0] == pytest.approx(fit_logistic(s.x, s.y)[1])
    top = np.argsort(-p)[:200]
    assert est["ppv"][0] == pytest.approx(y[top].mean())


def test_resamples_are_seeded_and_independent_of_what_is_computed():
    a = [w.copy() for w in resample_weights(50, 3, random_state=5)]
    b = list(resample_weights(50, 5, random_state=5))[:3]
    c = list(resample_weights(50, 3, random_state=6))
    assert all(np.array_equal(x, z) for x, z in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert all(w.sum() == 50 for w in a)


def test_percentile_interval_skips_undefined_replicates_and_needs_half():
    reps = np.column_stack(
        [np.arange(100.0), np.r_[np.full(60, np.nan), np.arange(40.0)]]
    )
    reps = np.column_stack([reps, np.r_[np.full(20, np.inf), np.arange(80.0)]])
    low, high, bad = percentile_interval(reps, 0.8)
    assert bad.tolist() == [0, 60, 20]
    assert low[0] == pytest.approx(9.9) and high[0] == pytest.approx(89.1)
    assert np.isnan(low[1]) and np.isnan(high[1])  # only 40 % defined
    assert low[2] == pytest.approx(np.quantile(np.arange(80.0), 0.1))
    empty = percentile_interval(np.empty((0, 2)), 0.95)
    assert np.isnan(empty[0]).all()
