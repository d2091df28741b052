from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.model import CalibratedRiskModel, RiskModel, ScoreCalibrator


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrator_fixes_distorted_scores_and_round_trips(method):
    rng = np.random.default_rng(0)
    p = rng.beta(1, 8, 50_000)
    y = (rng.random(p.size) < p).astype(int)
    raw = p**0.5  # systematically too high
    c = ScoreCalibrator(method=method).fit(raw[:25_000], y[:25_000])
    q = c.predict(raw[25_000:])
    assert abs(q.mean() - y[25_000:].mean()) < 0.005
    assert abs(raw[25_000:].mean() - y[25_000:].mean()) > 0.1
    # Decile calibration within 2 points.
    dec = np.digitize(q, np.quantile(q, np.linspace(0.1, 0.9, 9)))
    for d in range(10):
        assert abs(q[dec == d].mean() - y[25_000:][dec == d].mean()) < 0.02
    again = ScoreCalibrator.from_dict(c.to_dict())
    np.testing.assert_array_equal(again.predict(raw), c.predict(raw))


def test_calibrated_model_never_refits_the_risk_model():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=3_000)})
    y = (rng.random(3_000) < 1 / (1 + np.exp(-2 * X.a - 2))).astype(int)
    base = RiskModel(max_trees=50, random_state=0).fit(X[:1500], y[:1500])
    before = base.booster_.model_to_string()
    cal = CalibratedRiskModel(base, method="sigmoid").fit(X[1500:], y[1500:])
    assert base.booster_.model_to_string() == before
    assert cal.predict_proba(X).shape == (3_000, 2)


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="`method` parameter of ScoreCalibrator"):
        ScoreCalibrator(method="beta").fit([0.1, 0.9], [0, 1])
