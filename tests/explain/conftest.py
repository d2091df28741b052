"""Fixtures: tiny literal tables, their features, and a model that knows the measures.

The model is fitted on a random frame with every feature column, where the outcome
depends on emergency admissions in 12 months, distinct drugs, a care-home
residence, a fall, a nomination and being in hospital, so those groups carry clear
positive contributions for the people in ``_tiny.ROWS`` who have them.
"""

from __future__ import annotations

import pytest

from _support.canonical import tables_from_rows
from explain._tiny import AS_OF, ROWS, random_feature_frame
from riskstrat.features import build_features
from riskstrat.model import RiskModel


@pytest.fixture(scope="session")
def tiny_tables():
    return tables_from_rows(**ROWS)


@pytest.fixture(scope="session")
def tiny_features(tiny_tables):
    return build_features(tiny_tables, as_of=AS_OF)


@pytest.fixture(scope="session")
def risk_model():
    X, y = random_feature_frame(4_000, seed=0)
    return RiskModel(
        max_trees=80,
        early_stopping_rounds=20,
        min_child_samples=50,
        random_state=0,
        n_jobs=1,
    ).fit(X, y)
