"""Scores are keyed tables; a registered model refuses features it was not trained on."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from riskstrat.exceptions import SchemaError
from riskstrat.features import (
    FeatureSpec,
    build_cohort,
    build_features,
    make_labels,
)
from riskstrat.model import SCORE_SCHEMA, check_features, score

AS_OF = dt.date(2023, 4, 1)


def _shuffled(tables, seed: int):
    """The same tables with the rows of every table in another order."""
    rng = np.random.default_rng(seed)
    moved = {}
    for name, t in tables.items():
        moved[name] = t.take(pa.array(rng.permutation(t.num_rows)))
    return dataclasses.replace(tables, **moved)


def test_score_table_is_keyed_sorted_and_names_the_pinned_version(registered):
    pop, _, loaded = registered
    feats = build_features(pop.tables, as_of=AS_OF, spec=loaded.design.feature_spec)
    s = score(loaded, feats)
    assert s.schema.equals(SCORE_SCHEMA)
    assert s.num_rows == feats.num_rows
    assert s["patient_id"].to_pylist() == sorted(s["patient_id"].to_pylist())
    assert set(s["as_of"].to_pylist()) == {AS_OF}
    assert set(s["model_name"].to_pylist()) == {"risk"}
    assert set(s["model_version"].to_pylist()) == {loaded.version}
    assert 0 < pc.min(s["risk"]).as_py() <= pc.max(s["risk"]).as_py() < 1


def test_shuffled_inputs_give_identical_keyed_outputs(registered):
    """No positional alignment anywhere: row order of the input changes nothing."""
    pop, _, loaded = registered
    shuffled = _shuffled(pop.tables, seed=1)
    spec = loaded.design.feature_spec
    day = dt.date(2022, 4, 1)
    for build in (
        lambda t: build_features(t, as_of=day, spec=spec),
        lambda t: make_labels(t, as_of=day),
        lambda t: build_cohort(t, as_of=day, spec=spec, min_age=18),
    ):
        assert build(shuffled).equals(build(pop.tables))
    a = score(loaded, build_features(pop.tables, as_of=day, spec=spec))
    feats = build_features(shuffled, as_of=day, spec=spec)
    b = score(
        loaded,
        feats.take(pa.array(np.random.default_rng(2).permutation(feats.num_rows))),
    )
    assert a.equals(b)


def test_cohort_joins_labels_on_the_key_and_applies_the_age_rule(registered):
    pop, _, _ = registered
    day = dt.date(2022, 4, 1)
    cohort = build_cohort(pop.tables, as_of=day, min_age=65, max_age=84)
    ages = cohort["age"].to_numpy()
    assert ages.min() >= 65 and ages.max() <= 84
    labels = make_labels(pop.tables, as_of=day).to_pandas().set_index("patient_id")
    got = cohort.to_pandas().set_index("patient_id")
    assert (
        got["label_emergency_admission"] == labels.loc[got.index, "emergency_admission"]
    ).all()
    assert (got["label_death"] == labels.loc[got.index, "death"]).all()


def test_a_model_refuses_features_built_with_another_spec(registered):
    pop, _, loaded = registered
    other = FeatureSpec(windows_days=(30, 91, 365, 730))
    feats = build_features(pop.tables, as_of=AS_OF, spec=other)
    with pytest.raises(SchemaError, match="trained on") as err:
        score(loaded, feats)
    message = str(err.value)
    assert "-em_admissions_6m: int64" in message  # the diff, line by line
    assert "+em_admissions_30d: int64" in message
    # The cheap check needs no data: the schema a spec would build is enough.
    from riskstrat.features import feature_schema

    with pytest.raises(SchemaError, match="em_bed_days_30d"):
        check_features(loaded, feature_schema(other))
    check_features(loaded, feature_schema(loaded.design.feature_spec))


def test_a_changed_type_or_order_is_refused(registered):
    pop, _, loaded = registered
    feats = build_features(pop.tables, as_of=AS_OF, spec=loaded.design.feature_spec)
    retyped = feats.set_column(
        feats.schema.get_field_index("age"), "age", pc.cast(feats["age"], pa.float64())
    )
    with pytest.raises(SchemaError, match=r"(?s)-age: int64.*\+age: double"):
        score(loaded, retyped)
    names = feats.column_names
    swapped = [*names[:2], names[3], names[2], *names[4:]]
    with pytest.raises(SchemaError, match="trained on"):
        score(loaded, feats.select(swapped))


def test_keys_must_be_present_and_unique(registered):
    pop, _, loaded = registered
    feats = build_features(pop.tables, as_of=AS_OF, spec=loaded.design.feature_spec)
    with pytest.raises(SchemaError, match=r"lacks the key column\(s\) \['as_of'\]"):
        score(loaded, feats.drop_columns(["as_of"]))
    twice = pa.concat_tables([feats.slice(0, 3), feats.slice(0, 1)])
    with pytest.raises(SchemaError, match="more than once"):
        score(loaded, twice)


def test_an_empty_feature_table_gives_an_empty_score_table(registered):
    pop, _, loaded = registered
    feats = build_features(pop.tables, as_of=AS_OF, spec=loaded.design.feature_spec)
    s = score(loaded, feats.slice(0, 0))
    assert s.num_rows == 0 and s.schema.equals(SCORE_SCHEMA)
