"""Tiny literal tables and a random training frame for the explain tests.

The model is fitted on a random frame with every feature column, where the outcome
depends on emergency admissions in 12 months, distinct drugs, a care-home
residence, a fall and a nomination, so those groups carry clear positive
contributions for the people below who have them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.features import feature_schema

AS_OF = dt.date(2023, 4, 1)
D = dt.date


def _admission(pid, a, d, emergency, dx, secondary=None):
    return {
        "patient_id": pid,
        "admission_date": a,
        "discharge_date": d,
        "emergency": emergency,
        "primary_diagnosis": dx,
        "secondary_diagnoses": secondary or [],
    }


def _rx(pid, day, code):
    return {"patient_id": pid, "issue_date": day, "drug_code": code}


DRUGS = (
    "0101010A0",
    "0202010B0",
    "0205051R0",
    "0212000B0",
    "0301011R0",
    "0403010B0",
    "0601011A0",
)

ROWS = {
    "patients": [
        # p1: 84 on AS_OF; falls, three emergency admissions, 7 drugs, care home.
        {
            "patient_id": "p1",
            "birth_date": D(1938, 5, 1),
            "sex": "female",
            "locality": "Mid Essex",
            "practice_id": "P001",
            "deprivation_decile": 3,
        },
        # p2: 40, nothing on record.
        {
            "patient_id": "p2",
            "birth_date": D(1983, 1, 1),
            "sex": "male",
            "locality": "Mid Essex",
            "practice_id": "P001",
            "deprivation_decile": 8,
        },
        # p3: 70, everything on record happens on or after AS_OF.
        {
            "patient_id": "p3",
            "birth_date": D(1952, 6, 1),
            "sex": "male",
            "locality": "West Essex",
            "practice_id": "P002",
            "deprivation_decile": 5,
        },
        # p4: 70, nominated by the practice; no other rule.
        {
            "patient_id": "p4",
            "birth_date": D(1952, 6, 1),
            "sex": "female",
            "locality": "West Essex",
            "practice_id": "P002",
            "deprivation_decile": 5,
        },
        # p5: 60, in hospital on AS_OF (emergency, admitted 25 Mar 2023).
        {
            "patient_id": "p5",
            "birth_date": D(1962, 6, 1),
            "sex": "female",
            "locality": "West Essex",
            "practice_id": "P002",
            "deprivation_decile": 2,
        },
    ],
    "admissions": [
        _admission("p1", D(2020, 1, 1), D(2020, 1, 5), True, "J18.9"),
        _admission("p1", D(2022, 6, 10), D(2022, 6, 14), True, "W19"),
        _admission("p1", D(2022, 11, 20), D(2022, 11, 21), True, "J18.9"),
        _admission("p1", D(2023, 3, 2), D(2023, 3, 3), True, "I50.0", ["E86"]),
        _admission("p1", D(2023, 4, 1), D(2023, 4, 10), True, "N39.0"),
        _admission("p1", D(2023, 5, 1), D(2023, 5, 1), False, "H25.9"),
        _admission("p3", D(2023, 4, 1), D(2023, 4, 5), True, "W10"),
        _admission("p3", D(2023, 6, 1), None, True, "E86"),
        _admission("p5", D(2023, 3, 25), None, True, "J44.1"),
    ],
    "prescriptions": [
        *[
            _rx("p1", D(2023, 1, 10) + dt.timedelta(days=7 * i), c)
            for i, c in enumerate(DRUGS)
        ],
        _rx("p1", D(2023, 3, 20), DRUGS[0]),
        _rx("p1", D(2022, 12, 1), "0407010H0"),  # before the 90-day window
        _rx("p1", D(2023, 4, 1), "0407010H0"),  # on AS_OF: not yet
        *[_rx("p3", D(2023, 4, 1), c) for c in DRUGS],
    ],
    "residences": [
        {
            "patient_id": "p1",
            "start_date": D(2000, 1, 1),
            "end_date": D(2023, 3, 10),
            "residence_type": "private",
        },
        {
            "patient_id": "p1",
            "start_date": D(2023, 3, 11),
            "end_date": None,
            "residence_type": "nursing_home",
        },
        {
            "patient_id": "p3",
            "start_date": D(2023, 4, 1),
            "end_date": None,
            "residence_type": "residential_home",
        },
    ],
    "nominations": [
        {"patient_id": "p4", "date": D(2023, 1, 4), "reason": "complex social needs"},
        {"patient_id": "p1", "date": D(2023, 4, 2), "reason": "after the run date"},
        {"patient_id": "p3", "date": D(2023, 4, 1), "reason": "on the run date"},
    ],
}


def random_feature_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Every feature column, random values; the outcome depends on five measures."""
    rng = np.random.default_rng(seed)
    cols = {}
    for field in feature_schema():
        if field.name == "patient_id":
            continue
        t = field.type
        if pa.types.is_boolean(t):
            cols[field.name] = rng.random(n) < 0.15
        elif pa.types.is_integer(t):
            cols[field.name] = rng.poisson(1.5, n)
        elif pa.types.is_floating(t):
            cols[field.name] = rng.random(n)
        else:
            cols[field.name] = rng.choice(["a", "b", "c"], n)
    X = pd.DataFrame(cols)
    X["age"] = rng.integers(30, 95, n)
    X["drugs_90d"] = rng.poisson(3, n)
    logit = (
        -3.0
        + 0.9 * X["em_admissions_12m"]
        + 0.35 * X["drugs_90d"]
        + 1.5 * X["care_home"]
        + 1.5 * X["frail_fall_12m"]
        + 1.5 * X["nominated_12m"]
        + 0.9 * X["in_hospital"]
    )
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return X, y.astype(int)
