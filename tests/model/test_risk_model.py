from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from riskstrat.exceptions import SchemaError
from riskstrat.model import RiskModel


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 100, n)
    adm = rng.poisson(0.4, n)
    home = rng.choice(
        ["private", "residential_home", "nursing_home"], n, p=[0.9, 0.05, 0.05]
    )
    noise = rng.normal(size=n)
    logit = -4 + 0.05 * (age - 50) + 0.6 * adm + np.where(home != "private", 0.8, 0)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(n)],
            "age": age,
            "adm": adm,
            "residence": home,
            "noise": noise,
        }
    )
    return X, y, p


def test_close_to_the_true_probability_ranking():
    X, y, _ = _data(20_000, 0)
    Xt, yt, pt = _data(20_000, 1)
    m = RiskModel(random_state=0).fit(X, y)
    auc_model = roc_auc_score(yt, m.predict_proba(Xt)[:, 1])
    auc_oracle = roc_auc_score(yt, pt)
    assert auc_oracle - auc_model < 0.015
    assert m.best_iteration_ >= 10
    assert list(m.feature_names_in_) == ["age", "adm", "residence", "noise"]
    gain = m.feature_importance()
    assert gain["age"] > gain["noise"]


def test_same_seed_same_model_and_refit_uses_all_rows():
    X, y, _ = _data(3_000, 2)
    a = RiskModel(max_trees=200, random_state=7).fit(X, y).predict_proba(X)
    b = RiskModel(max_trees=200, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    m = RiskModel(max_trees=200, random_state=7, refit=False).fit(X, y)
    assert m.booster_.num_trees() >= m.best_iteration_


def test_unseen_category_and_missing_values_are_scored():
    X, y, _ = _data(2_000, 3)
    m = RiskModel(max_trees=50, random_state=0).fit(X, y)
    new = X.head(3).copy()
    new["residence"] = ["hospice", None, "private"]
    new.loc[0, "age"] = np.nan
    p = m.predict_proba(new)[:, 1]
    assert np.isfinite(p).all()


def test_missing_feature_column_is_a_schema_error():
    X, y, _ = _data(500, 4)
    m = RiskModel(max_trees=20, random_state=0).fit(X, y)
    with pytest.raises(SchemaError, match=r"lacks 1 column.*'adm'"):
        m.predict_proba(X.drop(columns="adm"))


@pytest.mark.parametrize(
    ("param", "value"),
    [("learning_rate", 0), ("max_depth", 0), ("validation_fraction", 1.0)],
)
def test_bad_parameters_are_named(param, value):
    X, y, _ = _data(200, 5)
    with pytest.raises(ValueError, match=f"`{param}` parameter of RiskModel"):
        RiskModel(**{param: value}).fit(X, y)


def test_labels_must_be_binary():
    X, _, _ = _data(100, 6)
    with pytest.raises(ValueError, match="one class"):
        RiskModel().fit(X, np.zeros(100))


def test_early_stopping_split_keeps_each_person_on_one_side():
    from riskstrat.model._risk_model import early_stopping_split

    ids = np.repeat(np.arange(500), 2)  # two snapshots per person
    y = np.tile([0, 1], 500)
    tr, va = early_stopping_split(y, ids, fraction=0.2, seed=3)
    assert set(ids[tr]).isdisjoint(ids[va])
    assert len(tr) + len(va) == ids.size
    assert 0.15 < len(va) / ids.size < 0.25
    # Without groups the rows are split (a person may sit on both sides).
    tr, va = early_stopping_split(y, None, fraction=0.2, seed=3)
    assert set(ids[tr]) & set(ids[va])


def test_threads_follow_n_jobs_then_omp_num_threads_then_two(monkeypatch):
    from riskstrat.model._base import DEFAULT_THREADS, threads

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads(None) == 3 and threads(5) == 5
    for unset in ("", "0", "x", "-1"):
        monkeypatch.setenv("OMP_NUM_THREADS", unset)
        assert threads(None) == DEFAULT_THREADS == 2
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads(None) == 2
