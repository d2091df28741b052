from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from riskstrat.model import BedDaysModel, bed_day_capture


# Settings for the checks' small data sets (a few hundred rows): fast, full fit.
@parametrize_with_checks(
    [
        BedDaysModel(
            learning_rate=0.3,
            max_trees=50,
            early_stopping_rounds=10,
            min_child_samples=5,
            random_state=0,
        )
    ],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": (
            "the early-stopping split draws rows: a row of weight 2 and the same "
            "row twice can land on different sides, so the tree counts differ"
        )
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    adm = rng.poisson(0.4, n)
    home = rng.choice(["private", "nursing_home"], n, p=[0.9, 0.1])
    mean = np.exp(-1 + 0.8 * adm + np.where(home == "nursing_home", 1.0, 0.0))
    # Compound Poisson-gamma: a few admissions, each a gamma number of days.
    k = rng.poisson(mean / 4)
    y = np.array([rng.gamma(2.0, 2.0, size=i).sum() for i in k]).round()
    X = pd.DataFrame(
        {"patient_id": [f"p{i}" for i in range(n)], "adm": adm, "home": home}
    )
    return X, y, mean


def test_learns_the_mean_and_never_predicts_below_zero():
    X, y, _ = _data(6_000, 0)
    params = {"learning_rate": 0.1, "max_trees": 200, "early_stopping_rounds": 20}
    m = BedDaysModel(**params, random_state=0).fit(X, y)
    Xt, yt, mt = _data(6_000, 1)
    p = m.predict(Xt)
    assert (p >= 0).all()
    assert list(m.feature_names_in_) == ["adm", "home"]
    # In every common cell (admissions x residence) the prediction is close to
    # the true mean, and it is right on average.
    cells = pd.DataFrame({"adm": Xt["adm"], "home": Xt["home"], "p": p, "m": mt})
    common = cells.groupby(["adm", "home"]).filter(lambda g: len(g) >= 300)
    by_cell = common.groupby(["adm", "home"])[["p", "m"]].mean()
    assert len(by_cell) >= 3
    np.testing.assert_allclose(by_cell["p"], by_cell["m"], rtol=0.2)
    assert p.mean() == pytest.approx(yt.mean(), rel=0.1)
    # The training total is kept exactly (the balance factor).
    assert m.predict(X).mean() == pytest.approx(y.mean(), rel=1e-9)
    # Same seed, same model.
    again = BedDaysModel(**params, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict(Xt), p)


def test_rejects_negative_bed_days_and_bad_params():
    X, y, _ = _data(300, 2)
    with pytest.raises(ValueError, match="finite and >= 0"):
        BedDaysModel(max_trees=5).fit(X, y - 5)
    with pytest.raises(ValueError, match="`tweedie_variance_power` parameter"):
        BedDaysModel(tweedie_variance_power=2.5).fit(X, y)


def _capture_tables(bed, risk, exp, prio):
    ids = [f"p{i}" for i in range(len(bed))]
    return (
        pa.table({"patient_id": ids, "emergency_bed_days": bed}),
        pa.table({"patient_id": ids[::-1], "risk": risk[::-1]}),  # any row order
        pa.table({"patient_id": ids, "expected_bed_days": exp}),
        pa.table({"patient_id": ids, "essex_priority": pa.array(prio, pa.int64())}),
    )


def test_capture_by_hand():
    # p0: high risk, short stays; p1: one long stay; p2: rule 1; p3: nothing.
    labels, scores, expected, features = _capture_tables(
        bed=[2, 20, 3, 0, 5],
        risk=[0.8, 0.4, 0.3, 0.1, 0.4],
        exp=[2.0, 9.0, 1.0, 0.1, 4.0],
        prio=[2, None, 1, None, 2],
    )
    out = bed_day_capture(
        labels, scores=scores, expected=expected, features=features, capacity=[2, 10]
    )
    got = {(r["capacity"], r["ranking"]): r for r in out.to_pylist()}
    # Risk: p0 (0.8), then p1 and p4 tie at 0.4 -> p1 first by id: 2 + 20.
    assert got[(2, "risk")]["bed_days_captured"] == 22
    # Expected bed days: p1 (9), p4 (4): 25.
    assert got[(2, "expected_bed_days")]["bed_days_captured"] == 25
    # Rules: p2 (rule 1), then rule 2 by risk: p0 (0.8): 3 + 2.
    assert got[(2, "rules")]["bed_days_captured"] == 5
    assert got[(2, "ceiling")]["bed_days_captured"] == 25
    assert got[(2, "risk")]["share_captured"] == pytest.approx(22 / 30)
    # A capacity above the population lists everyone; the rules list only 3.
    assert got[(10, "risk")]["people_listed"] == 5
    assert got[(10, "rules")]["people_listed"] == 3
    assert got[(10, "rules")]["bed_days_captured"] == 10
    assert {r["bed_days_total"] for r in got.values()} == {30}


def test_capture_errors():
    labels, scores, expected, features = _capture_tables(
        [1, 2], [0.1, 0.2], [1.0, 2.0], [None, 1]
    )
    with pytest.raises(ValueError, match="`capacity` parameter"):
        bed_day_capture(
            labels, scores=scores, expected=expected, features=features, capacity=0
        )
    with pytest.raises(ValueError, match="misses 1"):
        bed_day_capture(
            labels,
            scores=scores.slice(0, 1),
            expected=expected,
            features=features,
            capacity=1,
        )
    unknown = labels.set_column(
        1, "emergency_bed_days", pa.array([None, 2], pa.int64())
    )
    with pytest.raises(ValueError, match="1 people have an unknown number of bed days"):
        bed_day_capture(
            unknown, scores=scores, expected=expected, features=features, capacity=1
        )
    with pytest.raises(ValueError, match="needs columns"):
        bed_day_capture(
            labels, scores=expected, expected=expected, features=features, capacity=1
        )


@pytest.mark.slow
def test_ranking_comparison_on_a_seeded_population():
    """Train both models on one year, compare rankings on the next (65 and over)."""
    from riskstrat.model import CohortSettings, RiskModel, cohort_frame
    from riskstrat.synth import make_population

    tables = make_population(15_000, random_state=3).tables
    cohort = CohortSettings(min_age=65)
    train = cohort_frame(tables, as_of=dt.date(2022, 4, 1), cohort=cohort)
    test = cohort_frame(tables, as_of=dt.date(2023, 4, 1), cohort=cohort)
    cols = [
        c
        for c in train.columns
        if c not in ("patient_id", "as_of", "label", "label_bed_days")
    ]
    small = {
        "max_trees": 300,
        "early_stopping_rounds": 30,
        "min_child_samples": 50,
        "random_state": 0,
        "n_jobs": 1,
    }
    risk = RiskModel(**small).fit(train[cols], train["label"])
    beds = BedDaysModel(**small).fit(train[cols], train["label_bed_days"])
    ids = test["patient_id"].tolist()
    capacity = round(0.05 * len(ids))
    out = bed_day_capture(
        pa.table(
            {"patient_id": ids, "emergency_bed_days": test["label_bed_days"].to_numpy()}
        ),
        scores=pa.table(
            {"patient_id": ids, "risk": risk.predict_proba(test[cols])[:, 1]}
        ),
        expected=pa.table(
            {"patient_id": ids, "expected_bed_days": beds.predict(test[cols])}
        ),
        features=pa.table(
            {
                "patient_id": ids,
                "essex_priority": pa.array(
                    test["essex_priority"].astype("Int64"), pa.int64()
                ),
            }
        ),
        capacity=capacity,
    )
    share = dict(
        zip(out["ranking"].to_pylist(), out["share_captured"].to_pylist(), strict=True)
    )
    assert out["bed_days_total"][0].as_py() == round(test["label_bed_days"].sum())
    chance = capacity / len(ids)
    # Both models beat a random list of the same size by far, and hindsight
    # beats them all.
    assert share["risk"] > 2 * chance
    assert share["expected_bed_days"] > 2 * chance
    assert share["ceiling"] >= max(
        share["risk"], share["expected_bed_days"], share["rules"]
    )
    assert out["people_listed"].to_pylist()[:2] == [capacity, capacity]
