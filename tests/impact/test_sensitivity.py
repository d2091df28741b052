"""E-values: hand-checked values and the properties that define them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskstrat.impact import e_value


def test_hand_checked_values():
    # RR 0.8: 1/0.8 = 1.25, 1.25 + sqrt(1.25 * 0.25) = 1.809...
    point, ci = e_value(0.8, 0.65, 0.98)
    assert point == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    r = 1 / 0.98  # the limit nearest 1
    assert ci == pytest.approx(r + math.sqrt(r * (r - 1)))
    # RR 2 (harm): 2 + sqrt(2) ; the lower limit 1.5 is the one nearest 1
    point, ci = e_value(2.0, 1.5, 2.7)
    assert point == pytest.approx(2 + math.sqrt(2))
    assert ci == pytest.approx(1.5 + math.sqrt(1.5 * 0.5))


def test_no_effect_needs_no_hidden_difference():
    assert e_value(1.0) == (1.0, pytest.approx(float("nan"), nan_ok=True))
    assert e_value(0.9, 0.7, 1.05)[1] == 1.0
    assert e_value(1.2, 0.99, 1.4)[1] == 1.0


def test_what_cannot_be_a_ratio_is_nan_not_a_number_made_up():
    assert math.isnan(e_value(-0.2)[0])  # a relative change below -100 %
    assert math.isnan(e_value(float("nan"))[0])
    assert math.isnan(e_value(0.8, float("nan"), 0.9)[1])
    # the limit nearest 1 is what counts; a far limit below 0 does not matter
    assert e_value(0.5, -0.3, 0.8)[1] == pytest.approx(e_value(0.8)[0])
    assert math.isnan(e_value(0.5, -0.3, -0.1)[1])


@given(st.floats(0.01, 100, allow_nan=False))
def test_a_ratio_and_its_inverse_need_the_same_hidden_difference(rr):
    assert e_value(rr)[0] == pytest.approx(e_value(1 / rr)[0], rel=1e-9)


@given(st.floats(1.0, 50), st.floats(1.0, 50))
def test_further_from_one_needs_a_stronger_hidden_difference(a, b):
    lo, hi = sorted((a, b))
    assert 1 <= e_value(lo)[0] <= e_value(hi)[0]
    # never weaker than the ratio itself
    assert e_value(hi)[0] >= hi
