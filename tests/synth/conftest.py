from __future__ import annotations

import datetime as dt

import pytest

from riskstrat.synth import make_population


@pytest.fixture(scope="session")
def small_pop():
    """3 000 people over 3 years: for structural checks."""
    return make_population(
        3_000, start=dt.date(2021, 1, 1), end=dt.date(2024, 1, 1), random_state=11
    )
