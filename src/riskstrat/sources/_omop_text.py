"""What each OMOP mapping rule and unmapped reason means, in one line each.

These texts go into :class:`MappingReport` (``mapped.description`` and
``unmapped.description``) and are the reference for ``docs/sources.md``.
"""

from __future__ import annotations

__all__: list[str] = []

RULES: dict[str, str] = {
    # person.birth_date_rule
    "year_month_day": "birth date from year_of_birth, month_of_birth, day_of_birth",
    "birth_datetime": "day or month missing: birth date from birth_datetime (same "
    "year)",
    "mid_month": "day missing: the 15th of month_of_birth",
    "mid_year": "month missing: 1 July of year_of_birth",
    "year_missing_or_unreadable": "year_of_birth empty or not a number: passed to "
    "validation, which rejects the patient",
    # person.sex_rule
    "gender_8507": "gender_concept_id 8507 (MALE): male",
    "gender_8532": "gender_concept_id 8532 (FEMALE): female",
    "gender_other": "any other gender_concept_id (0, 8551, 8521...): unknown",
    # death
    "earliest_death_date": "death_date of the person (the earliest if several)",
    # observation_period
    "registration_span": "registration_date = earliest observation_period start, "
    "deregistration_date = latest observation_period end",
    # visit_occurrence.urgency
    "er_and_inpatient_visit": "visit concept 262 (ER and inpatient): emergency",
    "admitted_from_er": "admitted_from_concept_id (5.4) / "
    "admitting_source_concept_id (5.3) is 9203, 8870 or 262: emergency",
    "er_visit_detail": "a visit_detail of the visit is an emergency-room segment: "
    "emergency",
    "after_er_visit": "an ER visit (9203) of the person started before and ended "
    "on the admission day or the day before: emergency",
    "emergency_source_value": "visit_source_value or admitted_from_source_value "
    "names an emergency admission in words (emergency, urgent, unplanned, A&E; "
    "docs/sources.md): emergency",
    "elective_source_value": "visit_source_value or admitted_from_source_value "
    "names an elective admission in words (elective, planned, waiting list, "
    "booked, day case): not emergency",
    "plain_inpatient_elective": "inpatient visit with no emergency evidence, "
    "read as elective because the caller said so (inpatient_urgency='elective')",
    "urgency_unknown": "inpatient visit with no emergency evidence: emergency "
    "empty (urgency unknown, never guessed)",
    # visit_detail.segment
    "er_segment": "emergency-room segment of an admission (makes it emergency)",
    "other_segment": "other segment of an admission (no effect on urgency)",
    # condition_occurrence.icd10
    # drug_exposure.issues
    "one_issue": "an exposure of at most drug_issue_days (28 by default): one issue",
    "repeat_issues": "an exposure longer than drug_issue_days: one issue every "
    "drug_issue_days from its start to its end (none after the extract date, or "
    "without one after the latest drug_exposure_start_date)",
    # condition_occurrence.visit
    "own_visit": "the condition's own visit (or its visit_detail's visit) is the "
    "admission",
    "from_er_visit": "recorded on the ER visit (9203) that led to the "
    "admission (and made it emergency): attached to that admission",
    "icd10_source_concept": "ICD-10 code of condition_source_concept_id "
    "(vocabulary ICD10, ICD10CM or ICD10GM)",
    "icd10_source_value": "condition_source_value shaped like ICD-10 (letter, two "
    "digits, optional dot and up to 4 more) where no vocabulary says otherwise",
    "icd10_maps_to": "the only ICD-10 concept that 'Maps to' condition_concept_id "
    "in concept_relationship",
    # drug_exposure.drug_rule
    "is_ingredient": "the drug concept is an RxNorm ingredient: its code",
    "ingredient_rollup": "rolled up to its single RxNorm ingredient via "
    "concept_ancestor",
    "multi_ingredient_product": "several ingredients: the product's own RxNorm "
    "code (counted as one drug)",
    "own_code": "the drug's own RxNorm code (no ingredient found, or no "
    "concept_ancestor)",
    # observation.residence_rule
    "snomed_concept": "observation_concept_id is a SNOMED CT residence finding",
    "snomed_source_value": "observation_source_value is a SNOMED CT residence "
    "finding code",
}

REASONS: dict[str, str] = {
    # death
    "unknown_person": "person_id is not in the person table",
    "missing_death_date": "death_date is empty",
    "duplicate_death": "the person has an earlier (or equal) death record; the "
    "earliest is used",
    # observation_period
    "unreadable_period": "start or end date empty or not a date",
    # visit_occurrence
    "er_visit_not_admitted": "emergency-room visit (9203) with no admission after "
    "it: an attendance, not an admission",
    "er_visit_before_admission": "emergency-room visit (9203) followed by an "
    "inpatient visit: it makes that admission emergency, and is not an admission "
    "itself",
    "not_inpatient": "visit concept is not inpatient (9201 and descendants) or "
    "ER-and-inpatient (262): outpatient, office, home... not an admission",
    "no_visit_concept": "visit_concept_id is 0 or empty: cannot tell whether it "
    "is an admission",
    # visit_detail
    "visit_not_admission": "the visit it belongs to is not an admission",
    # condition_occurrence
    "no_visit": "visit_occurrence_id (and visit_detail_id) empty: not linked to a "
    "hospital spell",
    "unknown_visit": "visit_occurrence_id is not in visit_occurrence",
    "no_icd10": "in an admission but no ICD-10 code could be found",
    "ambiguous_icd10": "in an admission; several ICD-10 codes map to the concept, "
    "so none is chosen",
    # drug_exposure
    "no_vocabulary": "no concept table: drug_concept_id cannot be read as RxNorm",
    "no_concept": "drug_concept_id is 0 or empty",
    "concept_not_found": "drug_concept_id is not in the concept table",
    "administration_not_prescription": "drug_type_concept_id 38000180 "
    "(Inpatient administration) or 32818 (EHR administration record): a dose "
    "given in hospital, not a prescription issued",
    "not_rxnorm": "drug concept is not RxNorm or RxNorm Extension (vaccines in "
    "CVX, for example)",
    # observation
    "not_residence": "not a residence finding (most observations are not)",
}
