"""The regression adjustment's ridge fit: exact where the data decide, shrunk where not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstrat.impact._adjust import fit_adjustment


def test_an_exact_relation_is_kept():
    # the before-period rate of a control *is* last year's count: slope 1
    x = np.column_stack([np.arange(30.0) % 5, np.arange(30.0) % 7])
    y = 1.0 * x[:, 0] + 0.0 * x[:, 1]
    beta = fit_adjustment(x, y, np.ones(30))
    np.testing.assert_allclose(beta, [1.0, 0.0], atol=1e-6)


def test_a_well_determined_fit_is_nearly_least_squares():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 4))
    y = x @ np.array([0.5, -0.3, 0.0, 0.2]) + rng.normal(size=3000)
    w = rng.uniform(0.5, 2, size=3000)
    z = np.column_stack([np.ones(3000), x]) * np.sqrt(w)[:, None]
    ols = np.linalg.lstsq(z, y * np.sqrt(w), rcond=None)[0][1:]
    np.testing.assert_allclose(fit_adjustment(x, y, w), ols, atol=0.01)


def test_noise_on_few_rows_is_shrunk_towards_no_adjustment():
    rng = np.random.default_rng(2)
    shrunk = []
    for _ in range(20):
        x, y = rng.normal(size=(40, 9)), rng.exponential(size=40) ** 2
        ols = np.linalg.lstsq(np.column_stack([np.ones(40), x]), y, rcond=None)[0][1:]
        shrunk.append(
            np.abs(fit_adjustment(x, y, np.ones(40))).sum() / np.abs(ols).sum()
        )
    assert np.median(shrunk) < 0.5


def test_rows_of_zero_weight_do_not_count():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    y = x @ np.array([1.0, 2.0]) + rng.normal(scale=0.1, size=60)
    w = np.ones(60)
    junk_x = np.vstack([x, rng.normal(size=(10, 2)) * 50])
    junk_y = np.concatenate([y, rng.normal(size=10) * 1e3])
    np.testing.assert_allclose(
        fit_adjustment(junk_x, junk_y, np.concatenate([w, np.zeros(10)])),
        fit_adjustment(x, y, w),
    )


def test_too_few_rows_or_a_constant_column_give_no_slope():
    x = np.ones((3, 2))
    assert fit_adjustment(x, np.arange(3.0), np.ones(3)).tolist() == [0.0, 0.0]
    x = np.column_stack([np.arange(10.0), np.full(10, 4.0)])
    beta = fit_adjustment(x, 2 * np.arange(10.0), np.ones(10))
    assert beta[1] == 0.0
    assert beta[0] == pytest.approx(2.0)
    assert fit_adjustment(np.zeros((5, 0)), np.ones(5), np.ones(5)).shape == (0,)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 100), st.floats(-50, 50))
def test_rescaling_a_covariate_rescales_its_slope(scale, shift):
    # standardised inside: units (days or years, bed days or weeks) do not
    # change the fitted adjustment
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 3))
    y = x[:, 0] - x[:, 2] + rng.normal(size=50)
    a = fit_adjustment(x, y, np.ones(50))
    x2 = x.copy()
    x2[:, 1] = x2[:, 1] * scale + shift
    b = fit_adjustment(x2, y, np.ones(50))
    np.testing.assert_allclose(b[[0, 2]], a[[0, 2]], rtol=1e-6, atol=1e-9)
    assert b[1] == pytest.approx(a[1] / scale, rel=1e-6, abs=1e-9)
