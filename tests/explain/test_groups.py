from __future__ import annotations

import pytest

from riskstrat.explain import load_templates, reason_group
from riskstrat.features import feature_schema


@pytest.mark.parametrize(
    ("feature", "group"),
    [
        ("em_admissions_3m", "emergency_admissions"),
        ("em_bed_days_24m", "emergency_admissions"),
        ("days_since_last_em_admission", "emergency_admissions"),
        ("admissions_12m", "hospital_admissions"),
        ("rule_two_admissions", "hospital_admissions"),
        ("frail_fall_12m", "frailty"),
        ("frail_any_12m", "frailty"),
        ("cci_dementia", "conditions"),
        ("elix_count", "conditions"),
        ("bnf_ch04_90d", "medicines"),
        ("drugs_90d", "medicines"),
        ("care_home", "residence"),
        ("nominated_12m", "nomination"),
        ("essex_priority", "case_finding_rules"),
        ("practice_id", "area"),
        ("something_new", "other"),
    ],
)
def test_reason_group(feature, group):
    assert reason_group(feature) == group


def test_every_feature_column_has_a_worded_group():
    groups = set(load_templates().groups)
    for name in feature_schema().names[2:]:  # after the key (patient_id, as_of)
        g = reason_group(name)
        assert g in groups
        assert g != "other", name
