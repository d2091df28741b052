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


@pytest.fixture(scope="session")
def yearly():
    """Base rates of 40 000 people, year by year over five shown years.

    40 000 is the smallest size at which a year's adult deaths (about 300) pin
    the death rate to about +/- 6 %; the steady-state and base-rate tests share it.
    """
    from _support.realism import yearly_rates

    pop = make_population(40_000, random_state=1)
    starts = [dt.date(2019 + i, 4, 1) for i in range(5)]
    return yearly_rates(pop, starts)
