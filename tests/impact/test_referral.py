"""How long ago people became referable, on tiny literal tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstrat.impact._referral import ReferralHistory

d = dt.date


def _adm(rows):
    return pa.table(
        {
            "patient_id": [r[0] for r in rows],
            "admission_date": pa.array([r[1] for r in rows], pa.date32()),
            "emergency": pa.array([r[2] for r in rows], pa.bool_()),
        }
    )


def _clock(history, day, ids, column="days_since_eligible"):
    return history.as_of(day, ids)[column].tolist()


def test_eligible_from_the_day_after_the_second_admission_until_the_first_leaves():
    h = ReferralHistory(_adm([("a", d(2022, 1, 1), True), ("a", d(2022, 3, 1), True)]))
    assert np.isnan(_clock(h, d(2022, 3, 1), ["a"])[0])  # same day: not yet seen
    assert _clock(h, d(2022, 3, 2), ["a"]) == [0.0]
    assert _clock(h, d(2022, 4, 1), ["a"]) == [30.0]
    # 2022-01-01 is in [as_of - 365, as_of) up to as_of = 2023-01-01
    assert _clock(h, d(2023, 1, 1), ["a"]) == [305.0]
    assert np.isnan(_clock(h, d(2023, 1, 2), ["a"])[0])


def test_a_third_admission_extends_the_run_without_restarting_it():
    h = ReferralHistory(
        _adm(
            [
                ("a", d(2022, 1, 1), True),
                ("a", d(2022, 3, 1), True),
                ("a", d(2022, 12, 1), True),
            ]
        )
    )
    # still eligible after 2023-01-01 because of 2022-03-01 and 2022-12-01
    assert _clock(h, d(2023, 2, 1), ["a"]) == [336.0]


def test_a_new_run_starts_after_a_gap():
    h = ReferralHistory(
        _adm(
            [
                ("a", d(2020, 1, 1), True),
                ("a", d(2020, 2, 1), True),
                ("a", d(2022, 5, 1), True),
                ("a", d(2022, 6, 1), True),
            ]
        )
    )
    assert _clock(h, d(2022, 6, 11), ["a"]) == [9.0]


def test_only_emergency_admissions_count_and_unknown_urgency_is_not_one():
    h = ReferralHistory(
        _adm(
            [
                ("a", d(2022, 1, 1), True),
                ("a", d(2022, 2, 1), False),
                ("b", d(2022, 1, 1), True),
                ("b", d(2022, 2, 1), None),
                ("c", d(2022, 1, 1), True),
                ("c", d(2022, 2, 1), True),
            ]
        )
    )
    out = _clock(h, d(2022, 3, 1), ["a", "b", "c", "nobody"])
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isnan(out[3])
    assert out[2] == 27.0


def test_the_rule_can_ask_for_another_count_and_window():
    rows = [("a", d(2022, 1, 1), True), ("a", d(2022, 3, 1), True)]
    one = ReferralHistory(_adm(rows), count=1, window_days=30)
    assert _clock(one, d(2022, 1, 20), ["a"]) == [18.0]
    assert np.isnan(_clock(one, d(2022, 2, 15), ["a"])[0])
    three = ReferralHistory(_adm(rows), count=3)
    assert np.isnan(_clock(three, d(2022, 6, 1), ["a"])[0])
    with pytest.raises(ValueError, match="count"):
        ReferralHistory(_adm(rows), count=0)


def test_days_since_the_last_nomination_before_the_date():
    noms = pa.table(
        {
            "patient_id": ["a", "a", "b"],
            "date": pa.array(
                [d(2022, 1, 1), d(2022, 5, 1), d(2022, 6, 1)], pa.date32()
            ),
        }
    )
    h = ReferralHistory(_adm([]), noms)
    out = _clock(h, d(2022, 6, 1), ["a", "b", "c"], "days_since_nominated")
    assert out[0] == 31.0 and np.isnan(out[1]) and np.isnan(out[2])
    assert np.isnan(_clock(ReferralHistory(_adm([])), d(2022, 6, 1), ["a"])[0])


day_strategy = st.integers(0, 1200).map(lambda k: d(2020, 1, 1) + dt.timedelta(days=k))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("abc"), day_strategy, st.booleans()), max_size=12
    ),
    as_of=day_strategy,
    later=st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 400)), max_size=5),
)
def test_events_on_or_after_the_date_never_change_the_clocks(rows, as_of, later):
    before = [r for r in rows if r[1] < as_of]
    future = [(p, as_of + dt.timedelta(days=k), True) for p, k in later]
    a = ReferralHistory(_adm(before)).as_of(as_of, ["a", "b", "c"])
    b = ReferralHistory(_adm(before + future)).as_of(as_of, ["a", "b", "c"])
    assert a.equals(b)
    # and the clock agrees with a direct count: eligible iff 2+ in the window
    for i, p in enumerate("abc"):
        days = sorted(r[1] for r in before if r[0] == p and r[2])
        window = [x for x in days if as_of - dt.timedelta(days=365) <= x]
        assert (len(window) >= 2) == (not np.isnan(a["days_since_eligible"][i]))
