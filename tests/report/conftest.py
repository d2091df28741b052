"""Fixtures for riskstrat.report: a 16-person table checkable by hand, simulated
scores, and the Agg backend so figures draw without a display."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

# 16 people, highest score first. Six had the outcome; bed days only for them
# (one same-day admission has 0 bed days), 25 in total. Scores 0.30, 0.20, 0.10
# and 0.05 are each shared by two people.
TINY = pd.DataFrame(
    {
        "p": [.90, .80, .70, .60, .50, .40, .30, .30, .20, .20, .10, .10, .05, .05, .02, .01],
        "y": [1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0],
        "bed": [12, 5, 0, 3, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0],
        "sex": ["f", "m"] * 8,
        # locality "c" has no events: its AUROC is undefined
        "locality": ["a", "a", "c", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "b", "a", "b"],
    }
)  # fmt: skip


@pytest.fixture
def tiny() -> pd.DataFrame:
    """The 16-person table, in a shuffled row order (results must not care)."""
    return TINY.sample(frac=1, random_state=3).reset_index(drop=True)


def _simulate(n: int, seed: int = 0, *, distort: float = 1.0):
    """Outcomes drawn from true risks; scores are ``expit(distort * logit(risk))``.

    ``distort=1`` gives perfectly calibrated scores, ``distort=2`` over-confident
    ones (calibration slope about 0.5).
    """
    rng = np.random.default_rng(seed)
    logit = rng.normal(-3.2, 1.0, n)
    risk = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < risk).astype(np.int64)
    scores = 1 / (1 + np.exp(-distort * logit))
    return y, scores


@pytest.fixture
def simulate():
    """``simulate(n, seed=0, *, distort=1.0) -> (y, scores)``."""
    return _simulate


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
