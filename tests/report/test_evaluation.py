"""evaluate(): hand-checked tables on 16 people, calibration on simulated data,
seeded CIs, row-order invariance and the log line."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from riskstrat.report import evaluate


def _overall(ev) -> pd.Series:
    return ev.overall.set_index("metric")["estimate"]


def test_tiny_overall_matches_sklearn(tiny):
    ev = evaluate(tiny.y, tiny.p, n_bootstraps=0)
    o = _overall(ev)
    assert o["n"] == 16 and o["events"] == 6 and o["prevalence"] == 6 / 16
    assert o["auroc"] == pytest.approx(roc_auc_score(tiny.y, tiny.p), abs=1e-15)
    assert o["auprc"] == pytest.approx(
        average_precision_score(tiny.y, tiny.p), abs=1e-15
    )
    assert o["brier"] == pytest.approx(brier_score_loss(tiny.y, tiny.p), abs=1e-15)
    assert o["observed_expected"] == pytest.approx(6 / tiny.p.sum())
    assert ev.overall["ci_low"].isna().all()  # no bootstrap asked for


def test_tiny_threshold_rows_by_hand(tiny):
    ev = evaluate(
        tiny.y,
        tiny.p,
        bed_days=tiny.bed,
        top_shares=(0.1, 0.2, 0.4),
        thresholds=[0.25],
        n_bootstraps=0,
    )
    t = ev.thresholds.set_index(["rule", "value"])
    # top 10 %: ceil(1.6) = 2 people (0.90, 0.80), both admitted, 12 + 5 of 25 bed days
    row = t.loc[("top_share", 0.1)]
    assert (row.n_flagged, row.events_flagged, row.cutoff) == (2, 2, 0.8)
    assert (row.ppv, row.sensitivity, row.specificity) == (1.0, 2 / 6, 1.0)
    assert row.bed_day_share == pytest.approx(17 / 25) and row.flagged_per_event == 1.0
    # top 20 %: 4 people, 3 admitted (0.70 was not)
    row = t.loc[("top_share", 0.2)]
    assert (row.n_flagged, row.ppv, row.sensitivity) == (4, 0.75, 0.5)
    assert row.bed_day_share == pytest.approx(20 / 25)
    assert row.flagged_per_event == pytest.approx(4 / 3)
    # top 40 %: ceil(6.4) = 7 would split the tie at 0.30, so 8 are flagged
    row = t.loc[("top_share", 0.4)]
    assert (row.n_flagged, row.share_flagged, row.cutoff) == (8, 0.5, 0.3)
    # probability >= 0.25: the same 8 people, 4 admitted, 20 bed days
    row = t.loc[("probability", 0.25)]
    assert (row.n_flagged, row.events_flagged, row.ppv, row.specificity) == (
        8,
        4,
        0.5,
        0.6,
    )
    assert row.sensitivity == pytest.approx(4 / 6) and row.flagged_per_event == 2.0
    assert row.bed_day_share == pytest.approx(20 / 25) and row.cutoff == 0.25


def test_tiny_net_benefit_deciles_and_distribution(tiny):
    ev = evaluate(tiny.y, tiny.p, n_bootstraps=0)
    nb = ev.net_benefit.set_index(["strategy", "threshold"])["net_benefit"]
    assert nb[("model", 0.5)] == pytest.approx(3 / 16 - 2 / 16)  # 5 flagged, 3 events
    assert nb[("treat_all", 0.5)] == pytest.approx(6 / 16 - 10 / 16)
    assert nb[("treat_none", 0.5)] == 0 and len(nb) == 150
    cal = ev.calibration
    assert cal["n"].sum() == 16 and cal["events"].sum() == 6
    assert cal["decile"].tolist() == list(range(1, len(cal) + 1))
    assert cal["mean_predicted"].is_monotonic_increasing
    top = cal.iloc[-1]  # 16 / 10 -> 2 people: 0.90 and 0.80, both admitted
    assert (top.n, top.events, top.observed) == (2, 2, 1.0)
    assert top.mean_predicted == pytest.approx(0.85)
    dist = ev.distribution
    assert dist["n"].sum() == 16 and dist.loc[dist.score_from == 0.9, "n"].item() == 1
    assert dist.loc[dist.score_from == 0.01, "n"].item() == 1  # 0.01 <= p < 0.02


@pytest.mark.parametrize("distort", [1.0, 2.0])
def test_calibration_intercept_slope_and_e_statistics(simulate, distort):
    y, p = simulate(200_000, seed=11, distort=distort)
    o = _overall(evaluate(y, p, top_shares=(), n_bootstraps=0))
    x = np.log(p / (1 - p))[:, None]
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1_000).fit(x, y)
    assert o["calibration_slope"] == pytest.approx(lr.coef_[0, 0], abs=1e-5)
    if distort == 1.0:
        assert abs(o["calibration_slope"] - 1) < 0.05
        assert abs(o["calibration_intercept"]) < 0.05
        assert o["e_avg"] < 0.002 and o["e90"] < 0.004
        assert abs(o["observed_expected"] - 1) < 0.03
    else:  # logits doubled: over-confident
        assert abs(o["calibration_slope"] - 0.5) < 0.03
        assert o["e_avg"] > 0.02 and o["e_max"] >= o["e90"] >= o["e50"]


def test_bootstrap_cis_are_seeded_contain_the_estimate_and_narrow_with_n(simulate):
    y, p = simulate(20_000, seed=12)
    groups = {"sex": np.tile(["f", "m"], 10_000)}
    runs = [evaluate(y, p, groups=groups, random_state=s) for s in (4, 4, 5)]
    cols = ["ci_low", "ci_high"]
    pd.testing.assert_frame_equal(runs[0].overall, runs[1].overall)
    pd.testing.assert_frame_equal(runs[0].thresholds, runs[1].thresholds)
    pd.testing.assert_frame_equal(runs[0].by_group, runs[1].by_group)
    assert not runs[0].overall[cols].equals(runs[2].overall[cols])
    o = runs[0].overall.dropna(subset=cols)
    assert set(o.metric) >= {
        "auroc",
        "auprc",
        "brier",
        "calibration_slope",
        "calibration_intercept",
        "observed_expected",
    }
    assert ((o.ci_low <= o.estimate) & (o.estimate <= o.ci_high)).all()
    t = runs[0].thresholds
    for m in ("ppv", "sensitivity"):
        assert ((t[f"{m}_ci_low"] <= t[m]) & (t[m] <= t[f"{m}_ci_high"])).all()
    small = evaluate(y[:2_000], p[:2_000]).overall.set_index("metric")
    big = runs[0].overall.set_index("metric")
    for m in ("auroc", "brier", "calibration_slope"):
        assert (big.ci_high - big.ci_low)[m] < 0.6 * (small.ci_high - small.ci_low)[m]


def test_bootstrap_auroc_se_agrees_with_delong(simulate):
    y, p = simulate(20_000, seed=13)
    ev = evaluate(y, p, top_shares=(), n_bootstraps=400, confidence_level=0.6827)
    pos, neg = np.sort(p[y == 1]), np.sort(p[y == 0])
    # DeLong placements: share of negatives below each positive, of positives above each negative
    v10 = (
        (np.searchsorted(neg, pos, "left") + np.searchsorted(neg, pos, "right"))
        / 2
        / neg.size
    )
    v01 = (
        1
        - (np.searchsorted(pos, neg, "left") + np.searchsorted(pos, neg, "right"))
        / 2
        / pos.size
    )
    assert v10.mean() == pytest.approx(ev.metric("auroc"))
    se = np.sqrt(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)
    row = ev.overall.set_index("metric").loc["auroc"]
    assert (row.ci_high - row.ci_low) / 2 == pytest.approx(se, rel=0.15)


def test_point_estimates_do_not_depend_on_row_order(tiny):
    a = evaluate(
        tiny.y, tiny.p, bed_days=tiny.bed, groups=tiny[["locality"]], n_bootstraps=0
    )
    back = tiny.iloc[::-1]
    b = evaluate(
        back.y, back.p, bed_days=back.bed, groups=back[["locality"]], n_bootstraps=0
    )
    for name, frame in a.to_frames(suppress=False).items():
        pd.testing.assert_frame_equal(frame, getattr(b, name), obj=name)


def test_one_info_line_with_counts(tiny, caplog):
    with caplog.at_level(logging.INFO, logger="riskstrat.report"):
        evaluate(tiny.y, tiny.p, n_bootstraps=10)
    (record,) = caplog.records
    assert record.name == "riskstrat.report._evaluation"
    assert record.getMessage().startswith(
        "evaluate: 16 people, 6 events, AUROC 0.725, 10 bootstrap"
    )
