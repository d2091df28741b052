"""by_group and thresholds_by_group: every level gets a row, undefined statistics
are NaN with a note, never an exception or a warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from riskstrat.report import evaluate


def test_by_group_by_hand_on_tiny(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from 0/0 either
        ev = evaluate(tiny.y, tiny.p, groups=tiny[["sex", "locality"]], n_bootstraps=50)
    g = ev.by_group.set_index(["group", "level"])
    assert g.index.tolist() == [
        ("sex", "f"),
        ("sex", "m"),
        ("locality", "a"),
        ("locality", "b"),
        ("locality", "c"),
    ]
    c = g.loc[("locality", "c")]  # four people, none admitted
    assert (c.n, c.events, c.prevalence) == (4, 0, 0.0)
    assert (
        np.isnan(c.auroc) and np.isnan(c.auroc_ci_low) and np.isnan(c.calibration_slope)
    )
    assert c.observed_expected == 0.0
    assert "one class only: AUROC undefined" in c.note
    assert "calibration slope needs >= 10 events" in c.note
    for level in ("a", "b"):
        m = tiny.locality == level
        row = g.loc[("locality", level)]
        assert row.auroc == pytest.approx(roc_auc_score(tiny.y[m], tiny.p[m]))
        assert row.brier == pytest.approx(brier_score_loss(tiny.y[m], tiny.p[m]))
        assert row.observed_expected == pytest.approx(tiny.y[m].sum() / tiny.p[m].sum())
    assert g.loc[("sex", "f"), "n"] + g.loc[("sex", "m"), "n"] == 16


def test_small_groups_note_undefined_resamples(simulate):
    y, p = simulate(3_000, seed=21)
    y[:20] = 0
    y[:2] = 1  # a practice of 20 people with 2 events
    practice = np.where(np.arange(3_000) < 20, "tiny", "large")
    ev = evaluate(y, p, groups={"practice": practice}, n_bootstraps=100)
    row = ev.by_group.set_index("level").loc["tiny"]
    assert (row.n, row.events) == (20, 2)
    assert row.auroc == pytest.approx(roc_auc_score(y[:20], p[:20]))
    # both events are left out of about e^-2 = 14 % of resamples
    assert "AUROC undefined in" in row.note and "of 100 resamples" in row.note
    # from the resamples where it is defined
    assert 0 <= row.auroc_ci_low <= row.auroc <= row.auroc_ci_high <= 1
    assert "calibration slope needs" in row.note
    large = ev.by_group.set_index("level").loc["large"]
    assert large.note == "" and np.isfinite(large.calibration_slope)
    assert large.auroc_ci_low < large.auroc < large.auroc_ci_high


def test_thresholds_by_group_add_up_to_the_overall_rows(tiny):
    ev = evaluate(
        tiny.y,
        tiny.p,
        groups=tiny[["locality"]],
        top_shares=(0.1, 0.5),
        thresholds=[0.25],
        n_bootstraps=0,
    )
    tbg = ev.thresholds_by_group
    assert len(tbg) == 3 * 3  # levels x cut-offs
    totals = tbg.groupby(["rule", "value"])["n_flagged"].sum()
    overall = ev.thresholds.set_index(["rule", "value"])["n_flagged"]
    assert totals.sort_index().tolist() == overall.sort_index().tolist()
    share = tbg.groupby(["rule", "value"])["share_of_flagged"].sum()
    np.testing.assert_allclose(share, 1.0)
    # probability >= 0.25 flags 0.90 (a), 0.80 (a), 0.70 (c), 0.60 (b), 0.50 (c),
    # 0.40 (a), 0.30 (b, admitted), 0.30 (c)
    rows = tbg[tbg.rule == "probability"].set_index("level")
    assert rows.n_flagged.tolist() == [3, 2, 3]
    assert rows.loc["a", "ppv"] == pytest.approx(2 / 3)
    assert rows.loc["b", "sensitivity"] == pytest.approx(2 / 4)
    assert np.isnan(rows.loc["c", "sensitivity"])  # no events in c


def test_no_groups_gives_empty_tables_with_columns(tiny):
    ev = evaluate(tiny.y, tiny.p, n_bootstraps=0)
    assert ev.by_group.empty and "auroc_ci_low" in ev.by_group.columns
    assert (
        ev.thresholds_by_group.empty
        and "share_of_flagged" in ev.thresholds_by_group.columns
    )
