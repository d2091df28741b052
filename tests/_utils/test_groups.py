"""Groupings: age bands and the "unknown" level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat._utils import evaluation_groups


def test_evaluation_groups_bands_and_unknowns():
    f = pd.DataFrame(
        {
            "age": [17, 18, 44, 45, 64, 65, 74, 75, 84, 85, np.nan],
            "sex": ["female"] * 10 + [None],
            "deprivation_decile": [1] * 10 + [None],
            "locality": ["A"] * 10 + [None],
            "care_home": [False] * 10 + [None],
        }
    )
    g = evaluation_groups(f)
    assert g["age_band"].tolist() == [
        "0-17", "18-44", "18-44", "45-64", "45-64", "65-74", "65-74",
        "75-84", "75-84", "85+", "unknown",
    ]  # fmt: skip
    assert g.iloc[-1].tolist() == ["unknown"] * 5  # a missing care-home flag too
    assert g["deprivation_decile"].iloc[0] == "01"
