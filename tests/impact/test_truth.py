"""The true effect from the counterfactual."""

from __future__ import annotations

import datetime as dt

from riskstrat.impact import true_effect
from riskstrat.synth import Programme, make_population


def test_no_effect_means_a_true_effect_of_exactly_zero():
    pop = make_population(
        1_500,
        start=dt.date(2020, 1, 1),
        end=dt.date(2023, 1, 1),
        random_state=2,
        programme=Programme(start=dt.date(2021, 1, 1), hazard_ratio=1.0),
    )
    t = true_effect(pop.tables, pop.counterfactual, as_of=dt.date(2023, 1, 1))
    assert (t["n_enrolled"] > 0).all()
    assert t["effect"].tolist() == [0.0, 0.0]


def test_a_strong_programme_lowers_the_enrolled_rates(programme_population):
    END = dt.date(2023, 4, 1)  # the conftest population's extract date

    t = true_effect(
        programme_population.tables, programme_population.counterfactual, as_of=END
    ).set_index("outcome")
    assert t.loc["emergency_admissions", "effect"] < 0
    assert (
        t.loc["emergency_admissions", "factual"]
        < t.loc["emergency_admissions", "counterfactual"]
    )
