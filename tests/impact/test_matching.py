"""Matching within strata, on the logit of a score, with a caliper."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.impact._matching import logit, match, strata


def _t(**cols):
    return pd.DataFrame(cols)


def test_nearest_within_stratum_and_caliper_with_replacement():
    treated = _t(
        patient_id=["t1", "t2", "t3"], stratum=["s", "s", "x"], logit=[0.0, 0.05, 5.0]
    )
    cands = _t(
        patient_id=["a", "b", "c", "d"],
        stratum=["s", "s", "s", "x"],
        logit=[0.02, 0.5, -0.01, 0.0],
    )
    m = match(treated, cands, k=2, caliper=0.3)
    got = {p: list(g["control_id"]) for p, g in m.groupby("patient_id")}
    # both t1 and t2 take a and c (with replacement); b is outside the caliper;
    # t3's only candidate (d) is 5 logits away: t3 is unmatched (no row)
    assert got == {"t1": ["c", "a"], "t2": ["a", "c"]}


def test_ties_are_broken_by_patient_id_not_row_order():
    treated = _t(patient_id=["t"], stratum=["s"], logit=[0.0])
    cands = _t(patient_id=["z", "m", "b"], stratum=["s"] * 3, logit=[0.1, -0.1, 0.1])
    first = match(treated, cands, k=2, caliper=1.0)["control_id"].tolist()
    again = match(treated, cands.iloc[::-1], k=2, caliper=1.0)["control_id"].tolist()
    assert first == again == ["b", "m"]


def test_covariates_reorder_candidates_but_the_caliper_stays_on_the_score():
    treated = _t(patient_id=["t"], stratum=["s"], logit=[0.0], z=[0.0])
    cands = _t(
        patient_id=["near", "alike", "far"],
        stratum=["s"] * 3,
        logit=[0.01, 0.2, 2.0],
        z=[3.0, 0.0, 0.0],
    )
    m = match(treated, cands, k=1, caliper=0.5, covariates=("z",))
    assert m["control_id"].tolist() == ["alike"]


def test_strata_are_age_band_sex_locality_and_prior_admissions():
    f = pd.DataFrame(
        {
            "age": [66, 74, 75],
            "sex": ["male"] * 3,
            "locality": ["A", "A", None],
            "em_admissions_12m": [2, 9, 0],
        }
    )
    s = strata(f, prior_admissions=True).tolist()
    assert s == ["65-74|male|A|2", "65-74|male|A|3", "75-84|male|unknown|0"]
    assert strata(f, prior_admissions=False).tolist()[0] == "65-74|male|A"


def test_logit_is_finite_at_0_and_1():
    assert np.isfinite(logit([0.0, 1.0])).all()


def test_recency_strata_put_in_hospital_first_then_each_bound():
    f = pd.DataFrame(
        {
            "age": [70] * 5,
            "sex": ["male"] * 5,
            "locality": ["A"] * 5,
            "em_admissions_12m": [2] * 5,
            "days_since_last_discharge": [3, 30, 31, 400, None],
            "in_hospital": [True, False, None, False, False],
        }
    )
    got = strata(f, prior_admissions=False, recency_days=(91, 30))
    assert [s.split("|")[-1] for s in got] == [
        "in hospital",
        "<=30d",
        "<=91d",
        "longer",
        "longer",
    ]


def test_sex_and_locality_can_be_left_out_of_the_exact_strata():
    f = pd.DataFrame(
        {
            "age": [66, 80],
            "sex": ["male", None],
            "locality": ["A", "B"],
            "em_admissions_12m": [2, 1],
        }
    )
    assert strata(f, prior_admissions=True, exact_on=()).tolist() == [
        "65-74|2",
        "75-84|1",
    ]
    assert strata(f, prior_admissions=False, exact_on=("locality",)).tolist() == [
        "65-74|A",
        "75-84|B",
    ]


def test_referral_strata_split_newly_referable_from_earlier_and_not_referable():
    f = pd.DataFrame(
        {
            "age": [70] * 6,
            "sex": ["male"] * 6,
            "locality": ["A"] * 6,
            "em_admissions_12m": [2] * 6,
            # eligible by admissions, by nomination, by both, long ago, never
            "days_since_eligible": [10, None, 200, 56, 57, None],
            "days_since_nominated": [None, 30, 5, None, 400, None],
        }
    )
    got = strata(f, prior_admissions=False, exact_on=(), referral_days=56)
    assert [s.split("|")[-1] for s in got] == [
        "newly referable",
        "newly referable",
        "newly referable",
        "newly referable",
        "referable",
        "not referable",
    ]
