"""The simulation is in steady state from the first shown date, and its base rates
match published figures (sources and years in docs/synthetic-population.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskstrat.synth import Programme, Truth
from riskstrat.synth._simulate import NEVER, person_uniform, run


def _pooled(yearly, band):
    return yearly[yearly.band == band].sum(numeric_only=True)


def test_adult_rates_are_steady_from_the_first_shown_year(yearly):
    """Year-on-year adult admission risk within 10 %, death rate within 25 %.

    At 40 000 people a year holds ~1 800 admitted adults (ratio of two years'
    risks: sd ~3.5 %) and ~300 adult deaths (sd ~8 %), so the bounds are about
    three standard deviations; the closed cohort this replaced drifted 21 % in
    admissions and 48 % in deaths over its first four years.
    """
    adult = yearly[yearly.band == "adult"].set_index("year")
    risk = adult.admitted / adult.people
    deaths = adult.deaths / adult.people
    first = risk.index.min()
    assert ((risk / risk[first] - 1).abs() < 0.10).all(), risk.to_dict()
    assert ((deaths / deaths[first] - 1).abs() < 0.25).all(), deaths.to_dict()
    size = adult.people / adult.people[first]
    assert ((size - 1).abs() < 0.05).all(), size.to_dict()


@pytest.mark.parametrize(
    ("band", "published", "low", "high"),
    [
        # ONS, deaths registered in England and Wales 2019 (rounded band rates)
        ("65-75", 14, 9, 20),
        ("75-85", 40, 28, 56),
        ("85+", 135, 95, 180),
    ],
)
def test_deaths_per_1000_by_age_band(yearly, band, published, low, high):
    g = _pooled(yearly, band)
    rate = 1000 * g.deaths / g.people
    assert low <= rate <= high, (band, rate, published)


def test_share_of_deaths_in_hospital(yearly):
    # PHE End of Life Care Profiles: 46.9 % of deaths in England in hospital (2016).
    g = _pooled(yearly, "all")
    share = g.deaths_in_hospital / g.deaths
    assert 0.38 <= share <= 0.56, share


@pytest.mark.parametrize(
    ("band", "published", "low", "high"),
    [
        # HES admitted patient care 2019-20, emergency admissions per 1 000
        # (rounded; see docs/synthetic-population.md)
        ("65-75", 190, 125, 255),
        ("75-85", 330, 215, 445),
        ("85+", 520, 340, 700),
    ],
)
def test_emergency_admissions_per_1000_by_age_band(yearly, band, published, low, high):
    g = _pooled(yearly, band)
    rate = 1000 * g.admissions / g.people
    assert low <= rate <= high, (band, rate, published)


def test_spells_per_admitted_person(yearly):
    g = _pooled(yearly, "adult")
    spells = g.admissions / g.admitted
    assert 1.25 <= spells <= 1.75, spells


@pytest.mark.parametrize(
    ("band", "published", "low", "high"),
    [
        # Census 2011 (ONS): 3.2 % of people 65+ in care homes; 85+ derived
        # from 59.2 % of them being 85+ and 1.25 million people 85+.
        ("65+", 0.032, 0.024, 0.042),
        ("85+", 0.14, 0.095, 0.185),
    ],
)
def test_care_home_prevalence(yearly, band, published, low, high):
    g = _pooled(yearly, band)
    share = g.care_home / g.people
    assert low <= share <= high, (band, share, published)


def test_person_uniform_is_keyed_and_uniform():
    person = np.arange(50_000)
    a = person_uniform(7, person, 100, 1)
    assert np.array_equal(a, person_uniform(7, person, 100, 1))
    # A person's number does not depend on who else draws.
    assert np.array_equal(a[123:456], person_uniform(7, person[123:456], 100, 1))
    for other in (
        person_uniform(8, person, 100, 1),
        person_uniform(7, person, 101, 1),
        person_uniform(7, person, 100, 2),
    ):
        assert np.corrcoef(a, other)[0, 1] ** 2 < 1e-3
    assert ((a >= 0) & (a < 1)).all()
    counts = np.histogram(a, bins=10, range=(0, 1))[0]
    assert (np.abs(counts - 5_000) < 5 * np.sqrt(5_000)).all()


N_PROG = 20_000


def _runs(hazard_ratio):
    """The factual run with a programme and the counterfactual run without."""
    prog = Programme(
        start=dt.date(2020, 4, 1),
        hazard_ratio=hazard_ratio,
        effect_spread=0.0,
        effect_delay_days=60,
    )
    truth = Truth(
        start=dt.date(2019, 4, 1),
        end=dt.date(2022, 4, 1),
        n_patients=N_PROG,
        random_state=4,
        programme=prog,
    )
    days = (truth.end - truth.start).days
    factual = run(N_PROG, days, truth.params, 4, truth._run_programme())
    counter = run(N_PROG, days, truth.params, 4, None)
    return factual[:2], counter[:2]


def _emergency(events):
    return pd.DataFrame(
        {"person": events.concat("em_person"), "day": events.concat("em_day")}
    )


def test_never_enrolled_people_live_the_same_lives_without_the_programme():
    """The counterfactual run differs only for people the programme enrolled."""
    (people, events), (cf_people, cf_events) = _runs(0.5)
    never = people.enrol_day == NEVER
    assert never.sum() < never.size  # some enrolled
    for name in ("death_day", "dereg_day", "residence", "hosp_until"):
        assert np.array_equal(
            getattr(people, name)[never], getattr(cf_people, name)[never]
        ), name
    f, c = _emergency(events), _emergency(cf_events)
    f_never = f[never[f.person]].reset_index(drop=True)
    c_never = c[never[c.person]].reset_index(drop=True)
    pd.testing.assert_frame_equal(f_never, c_never)
    # A realistic share of the people screened never enrol.
    screened = people.screen_day > -(2**30)
    share = (screened & never).sum() / screened.sum()
    assert 0.3 <= share <= 0.8, share
