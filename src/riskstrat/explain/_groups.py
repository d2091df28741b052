"""Which reason group each model input belongs to (one measure, all its windows)."""

from __future__ import annotations

import re

__all__ = ["reason_group"]

_EXACT = {
    "nominated_12m": "nomination",
    "nominated_ever": "nomination",
    "rule_nomination": "nomination",
    "days_since_last_em_admission": "emergency_admissions",
    "em_out_of_hours_share_24m": "emergency_admissions",
    "in_hospital": "in_hospital",
    "days_since_last_discharge": "recent_discharge",
    "admissions_12m": "hospital_admissions",
    "elective_admissions_12m": "hospital_admissions",
    "unknown_urgency_admissions_12m": "hospital_admissions",
    "rule_two_admissions": "hospital_admissions",
    "rule_frail_admission": "frailty",
    "cci_score": "conditions",
    "elix_count": "conditions",
    "drugs_90d": "medicines",
    "prescription_items_90d": "medicines",
    "bnf_chapters_90d": "medicines",
    "rule_polypharmacy": "medicines",
    "residence_type": "residence",
    "care_home": "residence",
    "rule_care_home": "residence",
    "essex_eligible": "case_finding_rules",
    "essex_priority": "case_finding_rules",
    "age": "age",
    "sex": "sex",
    "deprivation_decile": "deprivation",
    "locality": "area",
    "practice_id": "area",
}
_PATTERNS = (
    (re.compile(r"em_(admissions|bed_days)_\w+"), "emergency_admissions"),
    (re.compile(r"frail_\w+_12m"), "frailty"),
    (re.compile(r"(cci|elix)_\w+"), "conditions"),
    (re.compile(r"bnf_ch\d+_\w+"), "medicines"),
)


def reason_group(feature: str) -> str:
    """The reason group of a model input; unknown inputs fall in ``"other"``.

    Examples
    --------
    >>> [reason_group(f) for f in ("em_bed_days_6m", "cci_dementia", "bnf_ch02_90d")]
    ['emergency_admissions', 'conditions', 'medicines']
    >>> reason_group("weather")
    'other'
    """
    if feature in _EXACT:
        return _EXACT[feature]
    for pattern, group in _PATTERNS:
        if pattern.fullmatch(feature):
            return group
    return "other"
