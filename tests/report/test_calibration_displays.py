"""CalibrationDisplay and RiskDecileDisplay draw the evaluation's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.report import CalibrationDisplay, RiskDecileDisplay, evaluate


@pytest.fixture
def data(simulate):
    y, p = simulate(3_000, seed=51)
    return y, p, evaluate(y, p, top_shares=(), n_bootstraps=30, random_state=2)


def test_calibration_display_draws_curve_deciles_and_diagonal(data):
    ev = data[2]
    d = CalibrationDisplay.from_evaluation(ev, name="lightgbm")
    np.testing.assert_array_equal(
        d.line_.get_xdata(), ev.calibration_curve["predicted"]
    )
    np.testing.assert_array_equal(
        d.line_.get_ydata(), ev.calibration_curve["observed_smoothed"]
    )
    np.testing.assert_array_equal(d.points_.get_ydata(), ev.calibration["observed"])
    assert d.ci_lines_ is not None and len(d.ci_lines_.get_segments()) == 10
    assert d.diagonal_ is not None and d.points_.get_color() == d.line_.get_color()
    assert d.line_.get_label() == "lightgbm (smoothed)"


def test_calibration_from_predictions_gives_the_same_lines(data):
    y, p, ev = data
    a = CalibrationDisplay.from_evaluation(ev)
    b = CalibrationDisplay.from_predictions(y, p, n_bootstraps=30, random_state=2)
    for attr in ("line_", "points_"):
        np.testing.assert_array_equal(
            getattr(a, attr).get_xydata(), getattr(b, attr).get_xydata()
        )
    np.testing.assert_array_equal(
        np.asarray(a.ci_lines_.get_segments()), np.asarray(b.ci_lines_.get_segments())
    )
    c = CalibrationDisplay.from_predictions(y, p)  # no bootstrap: no CI lines
    assert c.ci_lines_ is None
    np.testing.assert_array_equal(a.line_.get_xydata(), c.line_.get_xydata())


def test_risk_decile_bars(data):
    y, p, ev = data
    d = RiskDecileDisplay.from_evaluation(ev, name="lightgbm")
    cal = ev.calibration
    assert [b.get_height() for b in d.predicted_bars_] == pytest.approx(
        cal["mean_predicted"].tolist()
    )
    assert [b.get_height() for b in d.observed_bars_] == pytest.approx(
        cal["observed"].tolist()
    )
    assert len(d.ci_lines_.get_segments()) == 10
    assert d.ax_.get_xlabel() == "Risk decile (10 = highest)"
    e = RiskDecileDisplay.from_predictions(
        y, p, n_bootstraps=30, random_state=2, name="lightgbm"
    )
    assert [b.get_height() for b in e.observed_bars_] == [
        b.get_height() for b in d.observed_bars_
    ]
    np.testing.assert_array_equal(
        np.asarray(d.ci_lines_.get_segments()), np.asarray(e.ci_lines_.get_segments())
    )
