"""Training labels under a programme: person-time under case management (0017)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import enrolment_time
from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign
from riskstrat.model._training import _enrolled_time, _impute_censored

AS_OF = dt.date(2022, 4, 1)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def _tables(absent=()):
    born = dt.date(1940, 1, 1)
    patients = [{"patient_id": p, "birth_date": born, "sex": "female"} for p in "abcde"]
    em = {"emergency": True, "primary_diagnosis": "R69"}
    admissions = [
        {"patient_id": "a", "admission_date": _day(40), "discharge_date": _day(45)},
        # b: admitted (day 30, 4 bed days) before enrolling on day 100, then again.
        {"patient_id": "b", "admission_date": _day(30), "discharge_date": _day(34)},
        {"patient_id": "b", "admission_date": _day(150), "discharge_date": _day(160)},
        # c: enrols on day 200 with no admission before; admitted after (treated).
        {"patient_id": "c", "admission_date": _day(250), "discharge_date": _day(251)},
        # d: never enrolled.
        {"patient_id": "d", "admission_date": _day(10), "discharge_date": _day(12)},
    ]
    enrolments = [
        {"patient_id": "a", "enrol_date": _day(-30)},  # open on as_of
        {"patient_id": "b", "enrol_date": _day(100)},
        {"patient_id": "c", "enrol_date": _day(200)},
        # e: an enrolment that ended before as_of is not open.
        {"patient_id": "e", "enrol_date": _day(-300), "end_date": _day(-100)},
        {"patient_id": "e", "enrol_date": _day(400)},  # after the window
    ]
    return tables_from_rows(
        absent=absent,
        extract_date=dt.date(2024, 4, 1),
        patients=patients,
        admissions=[{**em, **a} for a in admissions],
        enrolments=enrolments,
    )


def test_enrolment_time_on_a_literal_table():
    t = enrolment_time(_tables(), as_of=AS_OF).to_pandas().set_index("patient_id")
    assert t["enrolled_on_as_of"].to_dict() == {
        "a": True, "b": False, "c": False, "d": False, "e": False,
    }  # fmt: skip
    assert t.loc["b", "enrol_date"] == _day(100)
    assert t.loc["c", "enrol_date"] == _day(200)
    assert pd.isna(t.loc["d", "enrol_date"]) and pd.isna(t.loc["e", "enrol_date"])
    assert t.loc["b", "first_emergency_date"] == _day(30)
    assert t.loc["c", "first_emergency_date"] == _day(250)
    # Bed days before the enrolment: b's first spell only; c had none.
    assert t.loc["b", "bed_days_before_enrolment"] == 4
    assert t.loc["c", "bed_days_before_enrolment"] == 0
    assert pd.isna(t.loc["d", "bed_days_before_enrolment"])


def test_no_enrolments_table_means_nothing_can_be_left_out():
    assert enrolment_time(_tables(absent=("enrolments",)), as_of=AS_OF) is None


def test_enrolled_people_leave_and_windows_are_censored_at_enrolment():
    frame = pd.DataFrame(
        {
            "patient_id": list("abcde"),
            "as_of": [AS_OF] * 5,
            "label": [1, 1, 1, 1, 0],
            "label_bed_days": [5.0, 14.0, 1.0, 2.0, 0.0],
        }
    )
    out, info = _enrolled_time(frame, _tables(), AS_OF, 365, "duckdb")
    out = out.set_index("patient_id")
    assert info == {"enrolments_known": True, "left_out_enrolled": 1}
    assert "a" not in out.index  # enrolled on as_of: all treated time
    assert out.loc["b", "_observed"] == pytest.approx(100 / 365)
    assert not out.loc["b", "_censored"]  # an event before enrolling: known
    assert out.loc["c", "_censored"]  # its only event is under case management
    assert out.loc["c", "_observed"] == pytest.approx(200 / 365)
    assert out.loc["d", "_observed"] == 1.0 and not out.loc["d", "_censored"]
    assert out.loc["b", "_bed_days_before"] == 4


def test_a_censored_window_becomes_a_weighted_event_and_non_event():
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    data = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(n)],
            "x": x,
            "label": y,
            "_observed": 1.0,
            "_censored": False,
        }
    )
    data.loc[:9, "_censored"] = True
    data.loc[:9, "_observed"] = 0.25
    out, info = _impute_censored(data, ["x"], {"max_trees": 30, "random_state": 0})
    assert len(out) == n + 10 and info["censored_without_event"] == 10
    cens = out[out["_censored"]]
    # Each censored person: an event and a non-event whose weights add to one.
    w = cens.groupby("patient_id")["_weight"].sum()
    np.testing.assert_allclose(w, 1.0)
    q = cens[cens["label"] == 1]["_weight"]
    assert ((q > 0) & (q < 1)).all()
    assert info["imputed_events"] == pytest.approx(q.sum())
    assert (out.loc[~out["_censored"], "_weight"] == 1.0).all()


def test_the_design_says_how_enrolled_time_is_handled():
    t = TemporalDesign(train_as_of=(dt.date(2021, 4, 1),), test_as_of=AS_OF)
    assert ModelDesign(cohort=CohortSettings(), temporal=t).enrolled_time == "censor"
    with pytest.raises(ValueError, match="`enrolled_time` parameter"):
        ModelDesign(cohort=CohortSettings(), temporal=t, enrolled_time="drop")
    old = ModelDesign(cohort=CohortSettings(), temporal=t).to_json()
    old = old.replace('"enrolled_time": "censor",', "")
    assert ModelDesign.from_json(old).enrolled_time == "keep"  # saved before 0017


# --- a synthetic programme that works (hazard ratio 0.5) ------------------------

T0 = dt.date(2021, 4, 1)


@pytest.fixture(scope="module")
def programme():
    """5,000 people, a programme from 2019-10-01 that halves the hazard.

    ``counterfactual`` holds the same people with no programme: their untreated
    outcomes. Built once for this module.
    """
    from riskstrat.synth import Programme, make_population

    return make_population(
        5_000,
        random_state=0,
        programme=Programme(start=dt.date(2019, 10, 1), hazard_ratio=0.5),
    )


def _labels(tables, as_of):
    from riskstrat.model import cohort_frame

    frame = cohort_frame(tables, as_of=as_of, cohort=CohortSettings(min_age=65))
    return frame[["patient_id", "as_of", "label", "label_bed_days"]]


def test_default_training_labels_are_the_untreated_ones(programme):
    recorded = _labels(programme.tables, T0)
    untreated = _labels(programme.counterfactual, T0).set_index("patient_id")
    kept, info = _enrolled_time(recorded, programme.tables, T0, 365, "duckdb")
    # 50 people on the generator re-fitted to published base rates (decision
    # 0021: fewer emergency admissions at 65+, so fewer are referred and enrol).
    assert info["left_out_enrolled"] >= 40
    # The naive labels of the people enrolled on T0 are treated: fewer events
    # than the same people's untreated futures.
    # (A few of them died earlier without the programme: they are not in the
    # untreated cohort of T0, and are left out of the comparison.)
    left = recorded[~recorded["patient_id"].isin(kept["patient_id"])]
    both = left[left["patient_id"].isin(untreated.index)]
    assert len(both) >= 0.9 * len(left)
    naive = both["label"].astype(float).sum()
    truth = untreated.loc[both["patient_id"], "label"].astype(float).sum()
    assert naive < 0.85 * truth, (naive, truth)
    # Every label the default keeps as known equals the untreated one: no
    # admission under case management is in it.
    known = kept[~kept["_censored"] & kept["patient_id"].isin(untreated.index)]
    assert len(known) >= 0.99 * (~kept["_censored"]).sum()
    np.testing.assert_array_equal(
        known["label"].astype(float).to_numpy(),
        untreated.loc[known["patient_id"], "label"].astype(float).to_numpy(),
    )
    # Windows cut by an enrolment are there, with and without an event before.
    cut = kept[kept["_observed"] < 1]
    assert len(cut) > 10 and cut["_censored"].any() and not cut["_censored"].all()
