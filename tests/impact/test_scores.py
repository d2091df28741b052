"""The prognostic score of the admission count, on tiny literal inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.impact import ImpactSettings
from riskstrat.impact._scores import CountScore


class _Fixed:
    def __init__(self, mu):
        self.mu = np.asarray(mu, dtype=float)

    def predict(self, X):
        return self.mu


def test_count_score_is_the_poisson_chance_of_any_admission_and_keeps_the_order():
    X = pd.DataFrame({"a": [0, 1, 2, 3]})
    p = CountScore(_Fixed([0.5, 2.0, 4.0, -0.1])).predict_proba(X)
    assert p[:, 1] == pytest.approx(
        [1 - np.exp(-0.5), 1 - np.exp(-2), 1 - np.exp(-4), 0]
    )
    assert p.sum(axis=1) == pytest.approx(1.0)
    # people almost sure to be admitted are still ranked by how many admissions
    assert p[1, 1] < p[2, 1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prognostic_target": "bed_days"}, "prognostic_target"),
        ({"exact_recency_days": (30, 0)}, "exact_recency_days"),
        ({"interval": "jackknife"}, "rematch"),
        ({"exact_on": ("sex", "age")}, "exact_on"),
        ({"exact_on": ("sex", "sex")}, "exact_on"),
        ({"exact_referral_days": 0}, "exact_referral_days"),
    ],
)
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ImpactSettings(**changes)
