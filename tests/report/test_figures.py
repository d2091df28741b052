"""All four figures at once, as Figures (for MLflow) or PNG files."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from riskstrat.report import evaluate, evaluation_figures, save_figures


def test_figures_and_pngs(tmp_path, simulate):
    y, p = simulate(2_000, seed=61)
    ev = evaluate(y, p, n_bootstraps=20)
    figs = evaluation_figures(ev, name="lightgbm")
    assert list(figs) == ["roc", "calibration", "decision_curve", "risk_deciles"]
    assert all(isinstance(f, Figure) and len(f.axes) == 1 for f in figs.values())
    assert figs["roc"].axes[0].get_title() == "ROC curve"
    paths = save_figures(ev, tmp_path / "figures", dpi=50)
    again = save_figures(ev, tmp_path / "again", dpi=50)
    assert [q.name for q in paths] == [
        "roc.png",
        "calibration.png",
        "decision_curve.png",
        "risk_deciles.png",
    ]
    for a, b in zip(paths, again, strict=True):
        data = a.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data == b.read_bytes()
    assert ev.metric("auroc") == pytest.approx(roc_auc_score(y, p))
