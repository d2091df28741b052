"""Point estimates: sorting and ties, logistic calibration fits, the smoother, ROC
points and net benefit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

from riskstrat.report._metrics import (
    SortedSample,
    expit,
    fit_logistic,
    logit,
    net_benefit,
    roc_points,
    smooth_calibration,
)


def _sorted(frame):
    return SortedSample.from_arrays(frame.y.to_numpy(float), frame.p.to_numpy())


def test_cut_counts_never_split_a_tie(tiny):
    s = _sorted(tiny)
    # 7 of 16 would split the two 0.30 scores: both are flagged.
    assert s.snap(np.array([0, 1, 7, 8, 16])).tolist() == [0, 1, 8, 8, 16]
    # 40 % of 16 is 6.4 -> 7 -> 8 with the tie; 10 % -> 2; 100 % -> everyone
    assert s.top_counts(np.array([0.4, 0.1, 1.0])).tolist() == [8, 2, 16]
    assert s.counts_at_least(np.array([0.3, 0.31, 0.95, 0.01])).tolist() == [
        8,
        6,
        0,
        16,
    ]
    edges = s.rank_bins(10)
    assert edges[0] == 0 and edges[-1] == 16
    assert all(s.p[e - 1] != s.p[e] for e in edges[1:-1])  # no tie straddles a bin


def test_rank_bins_merge_when_scores_have_few_values():
    s = SortedSample.from_arrays(
        np.array([0, 1] * 50, float), np.repeat([0.1, 0.2, 0.3, 0.4], 25)
    )
    assert s.rank_bins(10).tolist() == [0, 25, 50, 75, 100]


def test_logit_and_expit_are_inverse_and_finite_at_the_edges():
    p = np.array([0.0, 1e-12, 0.2, 0.5, 1.0])
    assert np.isfinite(logit(p)).all()
    np.testing.assert_allclose(expit(logit(p[1:-1] + 0.1)), p[1:-1] + 0.1)
    assert expit(np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]


def test_calibration_slope_matches_unpenalised_sklearn(simulate):
    y, p = simulate(20_000, seed=1, distort=1.5)
    x = logit(p)
    a, b = fit_logistic(x, y.astype(float))
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1_000).fit(x[:, None], y)
    assert b == pytest.approx(lr.coef_[0, 0], abs=1e-5)
    assert a == pytest.approx(lr.intercept_[0], abs=1e-5)


def test_calibration_intercept_solves_the_offset_score_equation(simulate):
    y, p = simulate(20_000, seed=2)
    p = np.clip(p * 1.3, 0, 1)  # too high: intercept < 0
    x = logit(p)
    a, b = fit_logistic(x, y.astype(float), fit_slope=False)
    assert b == 1.0
    root = brentq(lambda c: np.sum(y - expit(c + x)), -5, 5, xtol=1e-12)
    assert a == pytest.approx(root, abs=1e-7)
    assert a < -0.2


@pytest.mark.parametrize(
    ("y", "x"),
    [
        ([0, 0, 1, 1], [-2.0, -1.0, 1.0, 2.0]),  # complete separation
        ([1, 1, 1, 1], [-2.0, -1.0, 1.0, 2.0]),  # one class
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]),  # one score: slope undefined
    ],
)
def test_undefined_fits_are_nan_without_warnings(y, x):
    a, b = fit_logistic(np.array(x), np.array(y, dtype=float))
    assert np.isnan(a) and np.isnan(b)


def test_smoother_is_unbiased_for_calibrated_scores_and_sees_miscalibration(simulate):
    y, p = simulate(200_000, seed=3)
    curve, distance = smooth_calibration(SortedSample.from_arrays(y.astype(float), p))
    assert len(curve["n"]) == 200 and curve["n"].sum() == 200_000
    assert distance.mean() < 0.002
    assert np.all(np.diff(curve["predicted"]) > 0)  # lowest risk first
    for distort in (2.0, 0.5):  # over- and under-confident
        y2, p2 = simulate(200_000, seed=3, distort=distort)
        curve2, distance2 = smooth_calibration(
            SortedSample.from_arrays(y2.astype(float), p2)
        )
        assert distance2.mean() > 0.04
        # the smoothed curve follows the true curve expit(logit(p) / distort),
        # except in the widest, top bin (boundary of the smoother)
        truth = expit(logit(curve2["predicted"]) / distort)
        error = np.abs(curve2["observed_smoothed"] - truth)
        assert error.mean() < 0.003 and error[:-2].max() < 0.02


def test_smoother_bins_hold_at_least_ten_people(simulate):
    y, p = simulate(95, seed=4)
    curve, distance = smooth_calibration(SortedSample.from_arrays(y.astype(float), p))
    assert len(curve["n"]) == 9 and curve["n"].min() >= 10
    assert distance.shape == (95,)


def test_roc_points_lie_on_sklearn_roc_curve_and_are_bounded(simulate):
    y, p = simulate(50_000, seed=5)
    p = np.round(p, 3)  # plenty of ties
    pts = roc_points(SortedSample.from_arrays(y.astype(float), p))
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=False)
    exact = dict(zip(thr[1:], zip(fpr[1:], tpr[1:], strict=True), strict=True))
    for t, f, r in zip(
        pts["threshold"][1:], pts["fpr"][1:], pts["tpr"][1:], strict=True
    ):
        assert exact[t] == pytest.approx((f, r))
    assert len(pts["fpr"]) <= 462 and pts["tpr"][-1] == 1.0 and pts["fpr"][0] == 0


def test_net_benefit_by_hand(tiny):
    s = _sorted(tiny)
    nb = net_benefit(s, np.array([0.25, 0.5]))
    # t=0.25: 8 flagged (p >= 0.25), 4 events: 4/16 - 4/16 * (0.25/0.75)
    # t=0.5: 5 flagged, 3 events: 3/16 - 2/16 * 1
    np.testing.assert_allclose(nb["model"], [4 / 16 - 4 / 16 / 3, 3 / 16 - 2 / 16])
    np.testing.assert_allclose(
        nb["treat_all"], [6 / 16 - 10 / 16 / 3, 6 / 16 - 10 / 16]
    )
    assert nb["treat_none"].tolist() == [0.0, 0.0]
