"""References for a model on synthetic data: paired AUROC table, observable ceiling."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from riskstrat.synth import auroc_table, observable_ceiling

Y = np.array([0, 0, 1, 1, 0, 1, 0, 1])
GOOD = np.array([0.1, 0.2, 0.8, 0.7, 0.3, 0.9, 0.4, 0.6])
WEAK = np.array([0.5, 0.2, 0.4, 0.7, 0.6, 0.9, 0.1, 0.3])  # 12 of 16 pairs right
TIED = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])


def test_auroc_of_a_literal_table_by_hand():
    t = auroc_table(Y, {"good": GOOD, "weak": WEAK, "tied": TIED}, n_bootstraps=0)
    assert t.set_index("what")["auroc"].to_dict() == {
        "good": 1.0,
        "weak": 0.75,
        "tied": 0.5,
    }


def test_auroc_and_paired_differences_agree_with_sklearn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    a = y + rng.normal(0, 1.0, 400)
    b = np.round(a + rng.normal(0, 0.5, 400), 1)  # close to a, with ties
    t = auroc_table(y, {"a": a, "b": b}, [("a", "b")], n_bootstraps=50).set_index(
        "what"
    )
    assert t.at["a", "auroc"] == pytest.approx(roc_auc_score(y, a))
    assert t.at["b", "auroc"] == pytest.approx(roc_auc_score(y, b))
    assert t.at["a - b", "auroc"] == pytest.approx(
        t.at["a", "auroc"] - t.at["b", "auroc"]
    )
    for what in ("a", "b", "a - b"):
        assert t.at[what, "ci_low"] <= t.at[what, "auroc"] <= t.at[what, "ci_high"]
    # Paired: the difference's interval is narrower than either score's.
    width = t["ci_high"] - t["ci_low"]
    assert width["a - b"] < min(width["a"], width["b"])


def test_two_halves_extrapolate_the_path_noise_away():
    # A(inf) = 2 A(mean of halves) - mean(A(half)), on a literal table.
    h1 = np.array([0.1, 0.3, 0.8, 0.2, 0.4, 0.9, 0.5, 0.6])
    h2 = np.array([0.3, 0.1, 0.6, 0.8, 0.2, 0.7, 0.1, 0.5])
    a1, a2 = roc_auc_score(Y, h1), roc_auc_score(Y, h2)
    a = roc_auc_score(Y, (h1 + h2) / 2)
    t = auroc_table(Y, {"oracle": np.c_[h1, h2]}, n_bootstraps=0)
    assert t["auroc"].iloc[0] == pytest.approx(2 * a - (a1 + a2) / 2)


def test_extrapolation_recovers_the_noise_free_auroc():
    """Small noise of variance v/k per half lowers the AUROC about as c/k.

    Here the noise costs 0.007 (about what 2 paths cost the synthetic oracle);
    the extrapolation is within 0.0002 of the exact AUROC. (With noise that
    costs 0.05 the c/k law fails and the extrapolation recovers only part.)
    """
    rng = np.random.default_rng(0)
    n = 40_000
    risk = 1 / (1 + np.exp(-rng.normal(-2.5, 1.0, n)))
    y = (rng.random(n) < risk).astype(int)
    sd = 0.1 * np.sqrt(risk * (1 - risk))
    halves = risk[:, None] + sd[:, None] * rng.normal(0, 1, (n, 2))
    scores = {"exact": risk, "noisy": halves.mean(axis=1), "extrapolated": halves}
    t = auroc_table(y, scores, n_bootstraps=0).set_index("what")["auroc"]
    assert t["exact"] - t["noisy"] > 0.005  # the noise costs something
    assert abs(t["extrapolated"] - t["exact"]) < 0.1 * (t["exact"] - t["noisy"])


def test_auroc_table_refuses_what_it_cannot_judge():
    with pytest.raises(ValueError, match="both events and non-events"):
        auroc_table(np.zeros(8), {"good": GOOD})
    with pytest.raises(ValueError, match="unknown score 'other'"):
        auroc_table(Y, {"good": GOOD}, [("good", "other")])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        auroc_table(Y, {"short": GOOD[:3]})


def test_ceiling_is_cross_fitted_not_memorised():
    """A risk that no feature explains is not learnt: each fold predicts unseen rows."""
    rng = np.random.default_rng(1)
    n = 3_000
    X = np.c_[np.arange(n), rng.normal(size=n)]  # an id-like column could memorise
    risk = rng.uniform(0.01, 0.5, n)
    c = observable_ceiling(X, risk, n_splits=3, n_estimators=60, min_child_samples=20)
    assert abs(np.corrcoef(c, risk)[0, 1]) < 0.1


def test_ceiling_learns_a_risk_the_features_show():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3_000, 3))
    risk = 1 / (1 + np.exp(2 - 1.5 * X[:, 0] + X[:, 1] * X[:, 2]))
    c = observable_ceiling(X, risk, n_splits=3, n_estimators=150, learning_rate=0.15)
    assert np.corrcoef(c, risk)[0, 1] > 0.9
    assert ((c > 0) & (c < 1)).all()


def test_ceiling_refuses_bad_input():
    with pytest.raises(ValueError, match=r"\(n, p\)"):
        observable_ceiling(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        observable_ceiling(np.zeros((5, 2)), np.full(5, 1.5))
