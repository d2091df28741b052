"""The difference in differences, by hand, and its bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.impact._did import COLUMNS, bootstrap, did

Y = 365.25


def test_did_arithmetic_by_hand():
    # enrolled: 6 admissions in 2 person-years before, 2 in 2 after: 3.0 -> 1.0
    # controls: 8 in 4 before, 6 in 4 after: 2.0 -> 1.5
    sums = np.array([6, 2 * Y, 2, 2 * Y, 8, 4 * Y, 6, 4 * Y])
    r = did(sums)
    assert r["t_pre"] == pytest.approx(3.0)
    assert r["t_post"] == pytest.approx(1.0)
    assert r["naive"] == pytest.approx(-2.0)
    assert r["did"] == pytest.approx(-2.0 - (1.5 - 2.0))  # -1.5
    assert r["counterfactual"] == pytest.approx(3.0 - 0.5)
    assert r["relative"] == pytest.approx(-1.5 / 2.5)


def test_no_change_relative_to_controls_is_zero():
    sums = np.array([4, Y, 2, Y, 8, 2 * Y, 4, 2 * Y])
    assert did(sums)["did"] == pytest.approx(0.0)
    assert did(sums)["naive"] == pytest.approx(-2.0)


def test_columns_are_the_documented_order():
    assert COLUMNS[:2] == ("t_pre_events", "t_pre_days")
    assert len(COLUMNS) == 8


def _sets(seed=0, n=40):
    rng = np.random.default_rng(seed)
    m = np.zeros((n, 2, 8))
    m[..., 1::2] = 365.0
    m[..., 0::2] = rng.poisson(2.0, size=(n, 2, 4))
    return m


def test_bootstrap_is_reproducible_and_depends_on_the_seed():
    m = _sets()
    a = bootstrap(m, n_bootstraps=300, random_state=7)["did"]
    b = bootstrap(m, n_bootstraps=300, random_state=7)["did"]
    c = bootstrap(m, n_bootstraps=300, random_state=8)["did"]
    assert a.shape == (300, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bootstrap_resamples_whole_sets():
    # one set holds all the events: a resample either has it (with its controls)
    # or not; enrolled and control columns move together
    m = np.zeros((5, 1, 8))
    m[..., 1::2] = 365.0
    m[0, 0, [0, 4]] = 10
    boot = bootstrap(m, n_bootstraps=200, random_state=0)
    np.testing.assert_allclose(boot["t_pre"], boot["c_pre"])
