from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from explain._tiny import AS_OF, random_feature_frame
from riskstrat.exceptions import SchemaError
from riskstrat.explain import contributions, reason_group
from riskstrat.model import (
    CalibratedRiskModel,
    CohortSettings,
    LoadedModel,
    LogisticBaseline,
    ModelDesign,
    RiskModel,
    TemporalDesign,
)

KEY = ("patient_id", "as_of", "base_value")


def _raw_score(model, features):
    X = features.drop_columns(["patient_id", "as_of"]).to_pandas()
    return model.booster_.predict(model.encoder_.transform(X), raw_score=True)


def test_base_plus_contributions_is_the_raw_score(risk_model, tiny_features):
    c = contributions(risk_model, tiny_features)
    groups = [n for n in c.column_names if n not in KEY]
    total = c["base_value"].to_numpy() + sum(c[g].to_numpy() for g in groups)
    np.testing.assert_allclose(total, _raw_score(risk_model, tiny_features), atol=1e-9)


def test_groups_sum_the_features_of_one_measure(risk_model, tiny_features):
    by_group = contributions(risk_model, tiny_features)
    by_feature = contributions(risk_model, tiny_features, by="feature")
    em = [c for c in by_feature.column_names if c.startswith("em_admissions_")]
    assert em == [
        "em_admissions_3m",
        "em_admissions_6m",
        "em_admissions_12m",
        "em_admissions_24m",
    ]
    for g in by_group.column_names[3:]:
        members = [c for c in by_feature.column_names[3:] if reason_group(c) == g]
        want = sum(by_feature[c].to_numpy() for c in members)
        np.testing.assert_allclose(by_group[g].to_numpy(), want, atol=1e-12)


def test_equal_to_shap_tree_explainer(risk_model, tiny_features):
    import shap

    X = risk_model.encoder_.transform(
        tiny_features.drop_columns(["patient_id", "as_of"]).to_pandas()
    )
    sv = shap.TreeExplainer(risk_model.booster_)(X)
    by_feature = contributions(risk_model, tiny_features, by="feature")
    got = np.column_stack(
        [by_feature[c].to_numpy() for c in by_feature.column_names[3:]]
    )
    np.testing.assert_allclose(got, sv.values, atol=1e-9)


def test_keyed_sorted_and_only_the_people_asked(risk_model, tiny_features):
    shuffled = tiny_features.take(pa.array([3, 0, 4, 1, 2]))
    a = contributions(risk_model, shuffled, patient_ids=["p5", "p1"])
    assert a["patient_id"].to_pylist() == ["p1", "p5"]
    b = contributions(risk_model, tiny_features)
    assert a.equals(b.take(pa.array([0, 4])))


def test_calibrated_and_loaded_models_give_the_same_values(risk_model, tiny_features):
    X, y = random_feature_frame(500, seed=1)
    cal = CalibratedRiskModel(risk_model).fit(X, y)
    design = ModelDesign(
        cohort=CohortSettings(),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
        ),
    )
    loaded = LoadedModel(
        model=cal, name="m", version="1", run_id="r", feature_schema={}, design=design
    )
    want = contributions(risk_model, tiny_features)
    assert contributions(cal, tiny_features).equals(want)
    assert contributions(loaded, tiny_features).equals(want)


def test_clear_errors(risk_model, tiny_features):
    with pytest.raises(SchemaError, match=r"key column\(s\) \['as_of'\]"):
        contributions(risk_model, tiny_features.drop_columns(["as_of"]))
    with pytest.raises(SchemaError, match="drugs_90d"):
        contributions(risk_model, tiny_features.drop_columns(["drugs_90d"]))
    with pytest.raises(ValueError, match="1 of the 1 people"):
        contributions(risk_model, tiny_features, patient_ids=["nobody"])
    with pytest.raises(ValueError, match="no rows as of 2020-01-01"):
        contributions(risk_model, tiny_features, as_of=dt.date(2020, 1, 1))
    with pytest.raises(ValueError, match="more than one row"):
        contributions(risk_model, pa.concat_tables([tiny_features, tiny_features]))
    with pytest.raises(ValueError, match="`by` parameter"):
        contributions(risk_model, tiny_features, by="window")
    with pytest.raises(TypeError, match="LogisticBaseline"):
        contributions(LogisticBaseline(), tiny_features)
    with pytest.raises(ValueError, match="not fitted"):
        contributions(RiskModel(), tiny_features)
    rng = np.random.default_rng(0)
    on_arrays = RiskModel(max_trees=5, random_state=0).fit(
        rng.random((200, 3)), rng.random(200) < 0.3
    )
    with pytest.raises(ValueError, match="plain array"):
        contributions(on_arrays, tiny_features)


def test_as_of_picks_one_date(risk_model, tiny_features):
    later = tiny_features.set_column(
        1,
        "as_of",
        pa.array([dt.date(2024, 4, 1)] * tiny_features.num_rows, pa.date32()),
    )
    both = pa.concat_tables([tiny_features, later])
    c = contributions(risk_model, both, as_of=AS_OF)
    assert c.num_rows == tiny_features.num_rows
    assert set(c["as_of"].to_pylist()) == {AS_OF}
