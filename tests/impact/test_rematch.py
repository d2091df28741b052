"""The bootstrap that matches again, on tiny literal pools."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstrat.impact._did import did
from riskstrat.impact._rematch import Pool, rematch_bootstrap, replicate

Y = 365.25


def _pool(x_pairs=None, x_enrolled=None):
    """Two enrolled people; candidates ranked per person (person 1 is shared)."""
    enrolled = np.array([[[3, Y, 1, Y]], [[2, Y, 2, Y]]], dtype=float)
    pairs = np.array(
        [
            [[2, Y, 2, Y]],  # set 0, rank 1: control person 0
            [[2, Y, 1, Y]],  # set 0, rank 2: control person 1
            [[4, Y, 0, Y]],  # set 0, rank 3: control person 2
            [[2, Y, 1, Y]],  # set 1, rank 1: control person 1 (same person)
            [[2, Y, 3, Y]],  # set 1, rank 2: control person 3
        ],
        dtype=float,
    )
    ranked = np.array([[0, 1, 2], [3, 4, -1]])
    person = np.array([0, 1, 2, 1, 3])
    return Pool(
        enrolled=enrolled,
        ranked=ranked,
        pairs=pairs,
        person=person,
        n_people=4,
        x_enrolled=np.zeros((2, 0)) if x_enrolled is None else x_enrolled,
        x_pairs=np.zeros((5, 0)) if x_pairs is None else x_pairs,
    )


def test_every_count_one_is_the_matched_estimate_by_hand():
    # k=2: set 0 takes persons 0, 1 (2 -> 1.5), set 1 takes 1, 3 (2 -> 2)
    s = replicate(_pool(), np.ones(2), np.ones(4), k=2)
    assert s[0, :4].tolist() == [5, 2 * Y, 3, 2 * Y]
    assert s[0, 4:].tolist() == pytest.approx([4, 2 * Y, 3.5, 2 * Y])
    # enrolled 2.5 -> 1.5; controls 2.0 -> 1.75
    assert did(s)["did"][0] == pytest.approx(-1.0 + 0.25)


def test_an_undrawn_candidate_is_replaced_by_the_next_in_the_list():
    # person 1 not drawn: set 0 takes persons 0 and 2; set 1 only person 3
    s = replicate(_pool(), np.ones(2), np.array([1, 0, 1, 1]), k=2)
    assert s[0, 4:].tolist() == pytest.approx([3 + 2, 2 * Y, 1 + 3, 2 * Y])


def test_an_enrolled_person_drawn_twice_counts_twice_and_one_with_no_control_drops():
    s = replicate(_pool(), np.array([2.0, 1.0]), np.array([0, 0, 0, 1]), k=2)
    # set 0 has no drawn candidate: only set 1 (drawn once) is left
    assert s[0, :4].tolist() == [2, Y, 2, Y]
    assert s[0, 4:].tolist() == pytest.approx([2, Y, 3, Y])
    s = replicate(_pool(), np.array([2.0, 0.0]), np.ones(4), k=2)
    assert s[0, :4].tolist() == [6, 2 * Y, 2, 2 * Y]


def test_the_adjustment_moves_controls_to_the_enrolled_covariate():
    # control rates after = 1 + x (exactly linear): adjusted to x_enrolled
    x_pairs = np.array([[0.0], [1.0], [2.0], [1.0], [2.0]])
    pool = _pool(x_pairs=x_pairs, x_enrolled=np.array([[3.0], [3.0]]))
    post = 1 + x_pairs[:, 0]
    pairs = pool.pairs.copy()
    pairs[:, 0, 2] = post
    pairs[:, 0, 0] = 2.0  # the same rate before: nothing to adjust
    pool = Pool(**{**pool.__dict__, "pairs": pairs})
    s = replicate(pool, np.ones(2), np.ones(4), k=3)
    assert s[0, 6] / s[0, 7] * Y == pytest.approx(4.0)  # 1 + 3
    assert s[0, 4] / s[0, 5] * Y == pytest.approx(2.0)
    raw = replicate(pool, np.ones(2), np.ones(4), k=3, adjust=False)
    assert raw[0, 6] / raw[0, 7] * Y < 4.0


def test_the_bootstrap_is_reproducible_and_depends_on_the_seed():
    a = rematch_bootstrap(_pool(), k=2, n_bootstraps=50, random_state=3)["did"]
    b = rematch_bootstrap(_pool(), k=2, n_bootstraps=50, random_state=3)["did"]
    c = rematch_bootstrap(_pool(), k=2, n_bootstraps=50, random_state=4)["did"]
    assert a.shape == (50, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@settings(max_examples=30, deadline=None)
@given(
    wt=st.lists(st.integers(0, 3), min_size=2, max_size=2),
    wc=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    k=st.integers(1, 3),
)
def test_each_set_weighs_its_drawn_controls_to_one(wt, wc, k):
    """Control person-days are the drawn enrolled's, whatever is drawn."""
    wt_a, wc_a = np.array(wt, float), np.array(wc, float)
    s = replicate(_pool(), wt_a, wc_a, k=k)
    pool = _pool()
    has = [any(wc_a[pool.person[r]] > 0 for r in row if r >= 0) for row in pool.ranked]
    kept = sum(w for w, h in zip(wt, has, strict=True) if h)
    assert s[0, 1] == pytest.approx(kept * Y)
    assert s[0, 5] == pytest.approx(kept * Y)
