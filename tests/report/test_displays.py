"""RiskRocDisplay and DecisionCurveDisplay; matplotlib imported lazily, with a hint."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from riskstrat.report import DecisionCurveDisplay, RiskRocDisplay, evaluate
from riskstrat.report._displays import MATPLOTLIB_IMPORT_ERROR


@pytest.fixture
def data(simulate):
    y, p = simulate(3_000, seed=41)
    return y, p, evaluate(y, p, n_bootstraps=0)


def test_roc_from_evaluation_and_from_predictions_draw_the_same_line(data):
    y, p, ev = data
    a = RiskRocDisplay.from_evaluation(ev, name="lightgbm")
    b = RiskRocDisplay.from_predictions(y, p, name="lightgbm")
    np.testing.assert_array_equal(a.line_.get_xydata(), b.line_.get_xydata())
    np.testing.assert_array_equal(a.line_.get_xdata(), ev.roc["fpr"])
    assert a.line_.get_label() == f"lightgbm (AUROC = {ev.metric('auroc'):.3f})"
    assert a.ax_.figure is a.figure_ and a.chance_level_ is not None
    assert a.ax_.get_xlabel().startswith("False positive rate")


def test_roc_overlays_models_on_given_axes(data):
    ev = data[2]
    _, ax = plt.subplots()
    RiskRocDisplay.from_evaluation(ev, name="a", ax=ax)
    d = RiskRocDisplay.from_evaluation(
        ev, name="b", ax=ax, chance_level=False, color="C3"
    )
    assert d.ax_ is ax and d.chance_level_ is None and len(ax.get_lines()) == 3
    assert d.line_.get_color() == "C3"


def test_decision_curve_lines(data):
    y, p, ev = data
    a = DecisionCurveDisplay.from_evaluation(ev)
    b = DecisionCurveDisplay.from_predictions(y, p)
    nb = ev.net_benefit
    np.testing.assert_array_equal(
        a.line_.get_ydata(), nb.loc[nb.strategy == "model", "net_benefit"]
    )
    np.testing.assert_array_equal(
        a.treat_all_line_.get_ydata(), nb.loc[nb.strategy == "treat_all", "net_benefit"]
    )
    np.testing.assert_array_equal(a.line_.get_xydata(), b.line_.get_xydata())
    assert (a.treat_none_line_.get_ydata() == 0).all()
    assert a.ax_.get_xlim() == (0.0, 0.5)
    c = DecisionCurveDisplay.from_evaluation(ev, references=False)
    assert c.treat_all_line_ is None and c.treat_none_line_ is None


def test_missing_matplotlib_raises_the_install_hint_from_none(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib; install it") as info:
        RiskRocDisplay.from_evaluation(data[2])
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "pip install matplotlib" in MATPLOTLIB_IMPORT_ERROR


def test_importing_the_report_does_not_import_matplotlib():
    code = "import sys, riskstrat.report; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
