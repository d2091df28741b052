"""The difference in differences, by hand, and its bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.impact._did import COLUMNS, bootstrap, bootstrap_two_sample, did

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


def test_two_sample_bootstrap_is_reproducible_and_centred_on_the_point():
    m = _sets()
    t, c = m.copy(), m.copy()
    t[..., 4:] = 0.0
    c[..., :4] = 0.0
    a = bootstrap_two_sample(t, c, n_bootstraps=300, random_state=7)["did"]
    b = bootstrap_two_sample(t, c, n_bootstraps=300, random_state=7)["did"]
    np.testing.assert_array_equal(a, b)
    assert a.shape == (300, 2)
    point = did(m.sum(axis=0))["did"]
    assert np.abs(np.median(a, axis=0) - point).max() < 0.3


def test_two_sample_bootstrap_counts_a_control_shared_by_every_set():
    # 20 sets all matched to one control with many events, plus 19 quiet
    # controls of other sets: resampling whole sets always keeps the shared
    # control's weight fixed (no spread from it); resampling controls as
    # people does not.
    n = 20
    sets = np.zeros((n, 1, 8))
    sets[..., 1::2] = 365.25
    sets[..., 0:4] = [[[1, 365.25, 1, 365.25]]]
    sets[..., 4] = 0.5 * 1 + 0.5 * 0  # half weight on the shared control
    sets[..., 6] = 0.5 * 8
    boot_sets = bootstrap(sets, n_bootstraps=400, random_state=0)["did"]
    t = sets.copy()
    t[..., 4:] = 0.0
    shared = np.zeros((1, 1, 8))
    shared[0, 0, 4:] = [n * 0.5 * 1, n * 0.5 * 365.25, n * 0.5 * 8, n * 0.5 * 365.25]
    quiet = np.zeros((n, 1, 8))
    quiet[..., 4:] = [0.0, 0.5 * 365.25, 0.0, 0.5 * 365.25]
    c = np.concatenate([shared, quiet])
    point = did(sets.sum(axis=0))["did"]
    assert did(t.sum(axis=0) + c.sum(axis=0))["did"] == pytest.approx(point)
    boot_two = bootstrap_two_sample(t, c, n_bootstraps=400, random_state=0)["did"]
    assert np.std(boot_sets) < 1e-9
    assert np.std(boot_two) > 0.5
