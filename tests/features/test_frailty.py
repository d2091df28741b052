"""The seed's frail-elderly indicators: codes in and out, window, R11 over 70."""

from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import build_features

AS_OF = dt.date(2022, 4, 1)


def _one(
    primary=None, secondary=None, birth=dt.date(1940, 1, 1), when=dt.date(2022, 1, 1)
):
    t = tables_from_rows(
        patients=[{"patient_id": "p", "birth_date": birth, "sex": "male"}],
        admissions=[
            {
                "patient_id": "p",
                "admission_date": when,
                "discharge_date": when,
                "emergency": False,
                "primary_diagnosis": primary,
                "secondary_diagnoses": secondary or [],
            }
        ],
    )
    return build_features(t, as_of=AS_OF).to_pylist()[0]


@pytest.mark.parametrize(
    ("primary", "secondary", "flag"),
    [
        ("E86X", None, "dehydration"),
        ("E860", None, "dehydration"),
        ("S7200", ["W19X"], "fall"),
        ("S0600", ["W00"], "fall"),
        ("S5250", ["W100"], "fall"),
        ("K590", None, "constipation"),
        ("N390", None, "urinary_tract_infection"),
        ("R11X", None, "nausea_vomiting"),
    ],
)
def test_codes_in(primary, secondary, flag):
    f = _one(primary, secondary)
    assert f[f"frail_{flag}_12m"] is True
    assert f["frail_any_12m"] is True
    assert f["rule_frail_admission"] is True
    assert f["essex_priority"] == 1


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [
        ("E87", None),
        ("S7200", ["W20X"]),
        ("K591", None),
        ("N39", None),
        ("N391", None),
        ("R10", None),
        ("I10X", ["X59"]),
    ],
)
def test_codes_out(primary, secondary):
    assert _one(primary, secondary)["frail_any_12m"] is False


def test_nausea_counts_only_over_70():
    # "over 70": 71 on as_of counts, 70 does not.
    assert _one("R11X", birth=dt.date(1951, 4, 1))["frail_nausea_vomiting_12m"] is True
    assert _one("R11X", birth=dt.date(1951, 4, 2))["frail_nausea_vomiting_12m"] is False
    assert _one("R11X", birth=dt.date(1952, 1, 1))["frail_nausea_vomiting_12m"] is False


def test_window_is_twelve_months_before_as_of():
    assert (
        _one("E86X", when=dt.date(2021, 4, 1))["frail_dehydration_12m"] is True
    )  # 365 d
    assert _one("E86X", when=dt.date(2021, 3, 31))["frail_dehydration_12m"] is False
    assert _one("E86X", when=AS_OF)["frail_dehydration_12m"] is False  # future
