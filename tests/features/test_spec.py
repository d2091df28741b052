"""FeatureSpec: validated once, frozen, and it names the windowed columns."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import FeatureSpec, build_features, feature_schema

D = dt.date


def test_defaults_are_the_issue_windows():
    spec = FeatureSpec()
    assert spec.windows_days == (91, 182, 365, 730)
    assert spec.window_names == ("3m", "6m", "12m", "24m")
    assert (spec.frailty_days, spec.comorbidity_days, spec.drug_days) == (365, 730, 90)
    assert spec.polypharmacy_threshold == 5 and spec.rule_min_age == 65


@pytest.mark.parametrize(
    "windows", [(), (0, 91), (182, 91), (91, 91), (91.0, 182), (-5,)]
)
def test_windows_must_be_increasing_positive_ints(windows):
    with pytest.raises(ValueError, match="`windows_days` parameter of FeatureSpec"):
        FeatureSpec(windows_days=windows)


@pytest.mark.parametrize(
    "field", ["frailty_days", "comorbidity_days", "drug_days", "nomination_days"]
)
@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_lookbacks_must_be_positive_ints(field, value):
    with pytest.raises(ValueError, match=f"`{field}` parameter of FeatureSpec"):
        FeatureSpec(**{field: value})


def test_polypharmacy_threshold_must_be_positive():
    with pytest.raises(ValueError, match="`polypharmacy_threshold`"):
        FeatureSpec(polypharmacy_threshold=0)


def test_frozen_keyword_only_and_round_trips_as_plain_data():
    spec = FeatureSpec(windows_days=(30, 91))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.drug_days = 30  # type: ignore[misc]
    with pytest.raises(TypeError):
        FeatureSpec((91,))  # type: ignore[misc]
    assert FeatureSpec(**spec.to_dict()) == spec


def test_custom_windows_name_and_fill_their_columns():
    spec = FeatureSpec(windows_days=(30, 91))
    names = feature_schema(spec).names
    assert "em_admissions_30d" in names and "em_admissions_3m" in names
    assert "em_admissions_24m" not in names
    t = tables_from_rows(
        patients=[{"patient_id": "p", "birth_date": D(1950, 1, 1), "sex": "male"}],
        admissions=[
            {
                "patient_id": "p",
                "admission_date": day,
                "discharge_date": day + dt.timedelta(days=2),
                "emergency": True,
            }
            for day in (D(2022, 3, 2), D(2022, 3, 1), D(2022, 1, 1))
        ],
    )
    row = build_features(t, as_of=D(2022, 3, 31), spec=spec).to_pylist()[0]
    # 30 days: [2022-03-01, 2022-03-31) holds 03-01 and 03-02; 91 days adds 01-01.
    assert row["em_admissions_30d"] == 2 and row["em_bed_days_30d"] == 4
    assert row["em_admissions_3m"] == 3 and row["em_bed_days_3m"] == 6
