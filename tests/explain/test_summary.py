from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pytest

from riskstrat.explain import (
    ContributionDisplay,
    beeswarm,
    contributions,
    global_summary,
)


def _table():
    return pa.table(
        {
            "patient_id": ["a", "b", "c"],
            "as_of": pa.array([dt.date(2023, 4, 1)] * 3, pa.date32()),
            "base_value": [-2.0, -2.0, -2.0],
            "age": [0.3, -0.3, 0.0],
            "medicines": [0.1, 0.2, -0.6],
        }
    )


def test_global_summary_by_hand():
    s = global_summary(_table()).to_pylist()
    assert [r["reason_group"] for r in s] == ["medicines", "age"]
    assert s[0]["label"] == "Medicines (last 90 days)"
    assert s[0]["mean_abs_contribution"] == pytest.approx(0.3)
    assert s[0]["mean_contribution"] == pytest.approx(-0.1)
    assert s[0]["share_raising"] == pytest.approx(2 / 3)
    assert s[1]["mean_abs_contribution"] == pytest.approx(0.2)
    assert s[1]["share_raising"] == pytest.approx(1 / 3)


def test_global_summary_errors():
    with pytest.raises(ValueError, match="lacks"):
        global_summary(_table().drop_columns(["base_value"]))
    with pytest.raises(ValueError, match="empty"):
        global_summary(_table().slice(0, 0))


def test_beeswarm_draws_from_the_matrix(risk_model, tiny_features):
    c = contributions(risk_model, tiny_features)
    d = ContributionDisplay.from_contributions(c)
    assert d.values.shape == (c.num_rows, c.num_columns - 3)
    np.testing.assert_array_equal(d.values[:, 0], c[c.column_names[3]].to_numpy())
    _, ax = plt.subplots()
    d.plot(ax=ax, max_display=5)
    assert d.ax_ is ax and d.figure_ is ax.figure
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Emergency admissions and bed days" in labels
    plt.close("all")
    e = beeswarm(c)
    assert e.ax_.get_xlabel().startswith("Contribution")
    plt.close("all")
