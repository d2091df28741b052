"""OMOP concept ids and code shapes the OMOP adapter reads (one place for all)."""

__all__ = [
    "ADMINISTRATION_TYPES",
    "EMERGENCY_ORIGINS",
    "ICD10_SHAPE",
    "ICD10_VOCABULARIES",
    "PRIMARY_CONDITION_STATUS",
    "PRIMARY_CONDITION_TYPES",
    "RESIDENCE_CODES",
    "RXNORM_VOCABULARIES",
]

#: ``admitted_from`` / ``admitting_source`` concepts meaning "from an emergency
#: room": ER visit (9203, Visit domain in 5.4), Emergency Room - Hospital
#: (8870, Place of Service in 5.3), ER and inpatient visit (262).
EMERGENCY_ORIGINS = (9203, 8870, 262)
#: ``drug_type_concept_id`` of a dose given in hospital, not a prescription
#: issued: Inpatient administration (38000180), EHR administration record (32818).
ADMINISTRATION_TYPES = (38000180, 32818)
ICD10_VOCABULARIES = ("ICD10", "ICD10CM", "ICD10GM")
RXNORM_VOCABULARIES = ("RxNorm", "RxNorm Extension")
#: Primary diagnosis, primary admission diagnosis, primary discharge diagnosis.
PRIMARY_CONDITION_STATUS = (32902, 32901, 32903)
#: Inpatient detail - primary, Inpatient header - primary, Primary Condition.
PRIMARY_CONDITION_TYPES = (38000183, 38000199, 44786627)
#: SNOMED CT findings that say where a person lives.
RESIDENCE_CODES = {
    "160734000": "nursing_home",
    "394923006": "residential_home",
    "248171000000108": "residential_home",
}
#: A source value read as ICD-10: three characters, then a dot and up to four,
#: or without a dot one more digit or X. Five characters with no dot (Read v2
#: ``C10E7``, ``G3011``) are not ICD-10 here: they are ambiguous.
ICD10_SHAPE = r"[A-Za-z][0-9][0-9A-Za-z](\.[0-9A-Za-z]{1,4}|[0-9Xx])?"
