from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.exceptions import SchemaError
from riskstrat.model import FrameEncoder, feature_schema


def test_encoder_learns_roles_and_encodes_identically():
    df = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "age": [70, 80, None],
            "sex": ["m", "f", None],
            "flag": [True, False, True],
        }
    )
    enc = FrameEncoder().fit(df)
    assert enc.columns_ == ["age", "sex", "flag"]
    assert enc.categories_ == {"sex": ["f", "m"]}
    M = enc.transform(df)
    np.testing.assert_array_equal(M[:2], [[70, 1, 1], [80, 0, 0]])
    assert np.isnan(M[2, :2]).all()
    again = FrameEncoder.from_dict(enc.to_dict())
    np.testing.assert_array_equal(again.transform(df), M)


def test_dates_are_refused():
    df = pd.DataFrame({"d": pd.to_datetime(["2020-01-01"])})
    with pytest.raises(SchemaError, match="holds dates"):
        FrameEncoder().fit(df)


def test_schema_hash_changes_with_names_and_dtypes():
    a = pd.DataFrame({"patient_id": ["x"], "age": [1]})
    assert feature_schema(a)["hash"] == feature_schema(a.copy())["hash"]
    assert (
        feature_schema(a)["hash"]
        != feature_schema(a.rename(columns={"age": "b"}))["hash"]
    )
    assert feature_schema(a)["hash"] != feature_schema(a.astype({"age": float}))["hash"]


def test_categories_are_capped_and_rarer_values_pooled_without_being_stored():
    df = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(10)],
            "locality": ["a"] * 4 + ["b"] * 3 + ["c", "d", "e"],
        }
    )
    enc = FrameEncoder(max_categories=2).fit(df)
    assert enc.categories_ == {"locality": ["a", "b", "(other)"]}
    saved = enc.to_dict()
    assert not {"c", "d", "e"} & set(str(saved).replace("'", " ").split())
    codes = enc.transform(
        pd.DataFrame({"locality": ["a", "b", "c", "never seen", None]})
    )[:, 0]
    np.testing.assert_array_equal(codes[:4], [0, 1, 2, 2])
    assert np.isnan(codes[4])
    again = FrameEncoder.from_dict(saved)
    np.testing.assert_array_equal(again.transform(df), enc.transform(df))


def test_the_default_cap_is_200_and_ties_are_broken_by_value():
    values = [f"v{i:03d}" for i in range(250)]
    df = pd.DataFrame(
        {"x": values + ["v249"] * 50, "patient_id": [f"p{i}" for i in range(300)]}
    )
    enc = FrameEncoder().fit(df)
    cats = enc.categories_["x"]
    assert len(cats) == 201 and cats[-1] == "(other)"
    assert "v249" in cats and "v000" in cats and "v248" not in cats


def test_a_category_column_holding_one_value_per_person_is_refused():
    n = 100
    df = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(n)],
            "practice_id": [f"9{i:09d}" for i in range(n)],  # patient numbers
        }
    )
    with pytest.raises(SchemaError, match="'practice_id' has 100 distinct values") as e:
        FrameEncoder().fit(df)
    assert "9000000001" not in str(e.value)
    ok = df.assign(practice_id=[f"P{i % 40:03d}" for i in range(n)])
    assert len(FrameEncoder().fit(ok).categories_["practice_id"]) == 40


def test_old_encoders_without_pooling_still_load():
    enc = FrameEncoder.from_dict(
        {
            "columns": ["sex"],
            "dtypes": {"sex": "category"},
            "categories": {"sex": ["f"]},
        }
    )
    assert enc.pooled_ == [] and enc.max_categories == 200
    assert np.isnan(enc.transform(pd.DataFrame({"sex": ["m"]}))[0, 0])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_categories_is_checked_in_fit(bad):
    with pytest.raises(ValueError, match="max_categories"):
        FrameEncoder(max_categories=bad).fit(pd.DataFrame({"a": ["x"]}))
