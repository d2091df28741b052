"""Training distribution saved with a model, and the population stability index."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskstrat.model import psi, reference_distribution
from riskstrat.model._reference import MIN_CELL


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 5_000
    return pd.DataFrame(
        {
            "age": rng.integers(18, 100, n).astype(float),
            "em": rng.poisson(0.3, n).astype(float),
            "sex": rng.choice(["female", "male"], n),
            "practice": [f"P{i:05d}" for i in range(n)],  # unique per person
        }
    ), rng.random(n)


def test_the_same_population_is_stable_and_a_shift_is_flagged(frame):
    f, risk = frame
    ref = reference_distribution(f, ["age", "em", "sex"], risk)
    assert psi(ref["columns"]["age"], f["age"]) == pytest.approx(0, abs=1e-9)
    assert psi(ref["risk"], risk) == pytest.approx(0, abs=1e-9)
    older = f["age"] + 15
    assert psi(ref["columns"]["age"], older) > 0.2
    assert psi(ref["columns"]["sex"], ["female"] * 900 + ["male"] * 100) > 0.2
    assert psi(ref["columns"]["age"], f["age"].sample(2_000, random_state=1)) < 0.02


def test_missing_values_are_a_cell_of_their_own(frame):
    f, risk = frame
    ref = reference_distribution(f, ["em"], risk)
    assert ref["columns"]["em"]["missing"] == 0
    half_missing = f["em"].where(np.arange(len(f)) % 2 == 0)
    assert psi(ref["columns"]["em"], half_missing) > 1


def test_nothing_per_person_is_stored(frame):
    f, risk = frame
    ref = reference_distribution(f, ["practice", "sex"], risk)
    shares = ref["columns"]["practice"]["shares"]
    assert list(shares) == ["__other__"] and shares["__other__"] == 1.0
    text = json.dumps(ref)
    assert "P00001" not in text
    n = ref["n"]
    for entry in ref["columns"].values():
        for share in entry["shares"].values():
            assert share * n >= MIN_CELL
