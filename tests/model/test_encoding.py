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
