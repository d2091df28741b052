"""Argument errors name the argument, the rule and the value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.report import evaluate
from riskstrat.report._inputs import as_float_vector, check_groups

Y = [0, 1, 0, 1]
P = [0.1, 0.6, 0.3, 0.8]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y_true": [0, 1, 0]}, ValueError, "inconsistent numbers of samples: y_true has 3, scores has 4"),
        ({"y_true": [0, 1, np.nan, 1]}, ValueError, r"`y_true` contains NaN .*first at position 2"),
        ({"scores": [0.1, None, 0.3, 0.8]}, ValueError, "`scores` contains NaN"),
        ({"y_true": [0, 1, 2, 1]}, ValueError, r"only 0 and 1\. Got other values \[2\.0\]"),
        ({"y_true": [1, 1, 1, 1]}, ValueError, r"only one class \(1\)"),
        ({"scores": [0.1, 1.2, 0.3, -0.1]}, ValueError, r"probabilities in \[0, 1\]; 2 values, first at position 1 is outside \(value 1.2\)"),
        ({"scores": np.ones((4, 2))}, ValueError, r"`scores` parameter of evaluate must be 1-dimensional"),
        ({"scores": ["a", "b", "c", "d"]}, ValueError, "`scores` parameter of evaluate must be numeric"),
        ({"y_true": [], "scores": []}, ValueError, "`y_true` is empty"),
        ({"bed_days": [1, 2, 3]}, ValueError, "`bed_days` has 3 values but y_true has 4"),
        ({"bed_days": [1, -2, 3, 0]}, ValueError, r"`bed_days` must be >= 0; 1 value, first at position 1"),
        ({"groups": {"sex": ["f", "m"]}}, ValueError, r"`groups\['sex'\]` must be 1-dimensional with one value per person \(4\)"),
        ({"groups": pd.DataFrame({"sex": ["f"] * 5})}, ValueError, "`groups` has 5 rows but y_true has 4"),
        ({"groups": [["f", "m", "f", "m"]]}, TypeError, "must be a DataFrame or a mapping of column name to array. Got list"),
        ({"groups": pd.DataFrame({0: ["f"] * 4})}, TypeError, "column names must be strings"),
        ({"top_shares": (0.01, 5)}, ValueError, r"`top_shares` parameter of evaluate must hold values in \(0, 1\]. Got 5"),
        ({"thresholds": [0.2, 1.0]}, ValueError, r"`thresholds` parameter .* \(0, 1\). Got 1"),
        ({"n_bootstraps": -1}, ValueError, "`n_bootstraps` parameter of evaluate must be an int >= 0. Got -1"),
        ({"n_bootstraps": 2.5}, ValueError, "`n_bootstraps` .* Got 2.5"),
        ({"confidence_level": 95}, ValueError, r"`confidence_level` .* in \(0, 1\). Got 95"),
        ({"random_state": None}, ValueError, "`random_state` parameter of evaluate must be an int >= 0. Got None"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(kwargs, error, match):
    args = {"y_true": Y, "scores": P, **kwargs}
    with pytest.raises(error, match=match):
        evaluate(args.pop("y_true"), args.pop("scores"), **args)


def test_pandas_and_boolean_inputs_are_accepted():
    y = pd.Series([False, True, False, True], index=[10, 11, 12, 13])
    p = pd.Series([0.1, 0.6, 0.3, 0.8], dtype="Float64")
    ev = evaluate(
        y,
        p,
        groups={"sex": pd.Series(list("fmfm"), index=[3, 2, 1, 0])},
        n_bootstraps=0,
    )
    assert ev.metric("auroc") == 1.0
    assert ev.by_group["n"].tolist() == [2, 2]
    with pytest.raises(ValueError, match="`y_true` contains NaN"):
        as_float_vector(pd.Series([1, None], dtype="Int64"), "y_true")


def test_group_levels_keep_category_order_and_missing_goes_last():
    frame = pd.DataFrame(
        {
            "age_band": pd.Categorical(
                ["85+", "65-74", None, "75-84"], categories=["65-74", "75-84", "85+"]
            ),
            "decile": [10, 2, 2, np.nan],
        }
    )
    (_, c1, l1), (_, c2, l2) = check_groups(frame, 4)
    assert l1 == ["65-74", "75-84", "85+", "(missing)"] and c1.tolist() == [2, 0, 3, 1]
    assert l2 == [2.0, 10.0, "(missing)"] and c2.tolist() == [1, 0, 0, 2]
    assert all(type(v) is not np.float64 for v in l2)
