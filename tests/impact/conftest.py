"""A small synthetic population with a strong programme, shared by the module tests."""

from __future__ import annotations

import datetime as dt

import pytest

START, END, PROGRAMME = dt.date(2019, 4, 1), dt.date(2023, 4, 1), dt.date(2021, 4, 1)

_CACHE: dict = {}


@pytest.fixture(scope="session")
def programme_population():
    """5,000 people, a programme from 2021-04-01 halving the admission hazard."""
    from riskstrat.synth import Programme, make_population

    if "pop" not in _CACHE:
        _CACHE["pop"] = make_population(
            5_000,
            start=START,
            end=END,
            random_state=3,
            programme=Programme(start=PROGRAMME, hazard_ratio=0.5, effect_spread=0.0),
        )
    return _CACHE["pop"]


@pytest.fixture(scope="session")
def programme_result(programme_population):
    """``estimate_effect`` on it as of the extract date (200 bootstraps)."""
    from riskstrat.impact import ImpactSettings, estimate_effect

    if "result" not in _CACHE:
        _CACHE["result"] = estimate_effect(
            programme_population.tables,
            as_of=END,
            settings=ImpactSettings(n_bootstraps=200, random_state=1),
        )
    return _CACHE["result"]
