"""Clinical vocabularies of the synthetic population.

Long-term conditions with their ICD-10 codes (stored upper case without the dot,
as the data contract requires), their effect on emergency admissions and death,
and the drugs they bring (BNF-style codes: the first two characters are the real
BNF chapter; the rest follow the BNF chemical-substance pattern and are
illustrative). Also the seed's frail-elderly admission codes and acute codes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACUTE_CODES",
    "ACUTE_DRUGS",
    "DRUGS",
    "ELECTIVE_CODES",
    "FALL_CAUSE_CODES",
    "FALL_INJURY_CODES",
    "FRAILTY_DRUG_TIERS",
    "FRAIL_CODES",
    "LTCS",
    "LongTermCondition",
]


@dataclass(frozen=True)
class LongTermCondition:
    """One long-term condition of the generator."""

    name: str
    comorbidity_codes: tuple[str, ...]  # recorded as secondary diagnoses
    exacerbation_codes: tuple[str, ...]  # primary diagnosis of related admissions
    prevalence_intercept: float  # logit at age 60, u = 0
    prevalence_per_decade: float
    emergency_log_hr: float
    death_log_hr: float
    drugs: tuple[str, ...]  # BNF codes, each started with probability 0.8, 0.6, ...


LTCS: tuple[LongTermCondition, ...] = (
    LongTermCondition(
        "hypertension",
        ("I10X",),
        ("I10X",),
        -1.0,
        0.55,
        0.05,
        0.0,
        ("0206020A0", "0205051R0"),
    ),
    LongTermCondition(
        "diabetes",
        ("E119", "E112", "E116"),
        ("E111", "E110", "E162"),
        -2.4,
        0.35,
        0.3,
        0.2,
        ("0601022B0", "0601021M0", "0212000B0"),
    ),
    LongTermCondition(
        "copd",
        ("J449",),
        ("J440", "J441", "J189"),
        -3.6,
        0.5,
        0.75,
        0.5,
        ("0301011R0", "0301020Q0", "0302000C0"),
    ),
    LongTermCondition(
        "asthma",
        ("J459",),
        ("J459", "J46X"),
        -2.5,
        -0.05,
        0.25,
        0.0,
        ("0301011R0", "0302000C0"),
    ),
    LongTermCondition(
        "heart_failure",
        ("I500",),
        ("I500", "I501", "I110"),
        -5.4,
        0.85,
        0.9,
        0.9,
        ("0202020L0", "0204000H0", "0205051R0", "0202030S0"),
    ),
    LongTermCondition(
        "atrial_fibrillation",
        ("I489",),
        ("I489", "I480"),
        -4.9,
        0.75,
        0.35,
        0.3,
        ("0208020Z0", "0204000H0"),
    ),
    LongTermCondition(
        "coronary_heart_disease",
        ("I251", "I252"),
        ("I209", "I214", "I200"),
        -3.8,
        0.6,
        0.35,
        0.3,
        ("0209000A0", "0212000B0", "0204000H0"),
    ),
    LongTermCondition(
        "chronic_kidney_disease",
        ("N183", "N184"),
        ("N179", "E875"),
        -4.3,
        0.75,
        0.4,
        0.4,
        ("0906040G0",),
    ),
    LongTermCondition(
        "dementia",
        ("F03X", "G309", "F009"),
        ("F051", "R410"),
        -9.0,
        1.3,
        0.5,
        0.8,
        ("0411000D0",),
    ),
    LongTermCondition(
        "cancer",
        ("C349", "C189", "C509", "C61X"),
        ("C349", "C189", "R18X", "C787"),
        -4.8,
        0.5,
        0.6,
        1.3,
        ("0803041B0", "0407020Q0"),
    ),
    LongTermCondition(
        "stroke",
        ("I693", "Z8673"),
        ("I639", "I64X", "G459"),
        -5.0,
        0.65,
        0.4,
        0.4,
        ("0209000C0", "0212000B0"),
    ),
    LongTermCondition(
        "depression",
        ("F329",),
        ("F322", "X612"),
        -2.2,
        -0.05,
        0.25,
        0.1,
        ("0403030Q0", "0403030D0"),
    ),
)

#: The seed's frail-elderly indicators: (kind, ICD-10 code recorded, share).
#: Falls are external causes, recorded as a secondary code beside an injury.
FRAIL_CODES: tuple[tuple[str, str, float], ...] = (
    ("dehydration", "E86X", 0.2),
    ("fall", "W19X", 0.35),
    ("constipation", "K590", 0.1),
    ("nausea_vomiting", "R11X", 0.1),
    ("urinary_tract_infection", "N390", 0.25),
)
FALL_INJURY_CODES: tuple[str, ...] = ("S7200", "S0600", "S4220", "S5250", "S3200")
FALL_CAUSE_CODES: tuple[str, ...] = ("W19X", "W010", "W060", "W100", "W180")

#: Primary diagnoses of emergency admissions not tied to a condition or frailty.
ACUTE_CODES: tuple[str, ...] = (
    "R074",
    "R104",
    "J189",
    "A099",
    "K358",
    "L039",
    "R55X",
    "S525",
    "K567",
    "J22X",
    "R068",
    "K922",
)
#: Primary diagnoses of elective admissions.
ELECTIVE_CODES: tuple[str, ...] = (
    "H259",
    "M169",
    "M171",
    "K802",
    "K409",
    "N400",
    "Z511",
    "D126",
    "K573",
)

#: Drugs started when frailty first crosses each tier's threshold.
FRAILTY_DRUG_TIERS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (1.5, ("0407010H0", "0103050P0")),
    (2.2, ("0106040M0", "0407010F0")),
    (2.9, ("0606020A0", "0409010N0")),
)

#: Acute courses prescribed in primary care (at a rate that rises with frailty).
ACUTE_DRUGS: tuple[str, ...] = (
    "0501013B0",
    "0501030I0",
    "0501130R0",
    "0501050B0",
    "0603020T0",
    "0104020L0",
    "1001010P0",
    "0407010H0",
)

DRUGS: dict[str, str] = {
    "0206020A0": "Amlodipine",
    "0205051R0": "Ramipril",
    "0601022B0": "Metformin",
    "0601021M0": "Gliclazide",
    "0212000B0": "Atorvastatin",
    "0301011R0": "Salbutamol",
    "0301020Q0": "Tiotropium",
    "0302000C0": "Beclometasone",
    "0202020L0": "Furosemide",
    "0204000H0": "Bisoprolol",
    "0202030S0": "Spironolactone",
    "0208020Z0": "Apixaban",
    "0209000A0": "Aspirin",
    "0906040G0": "Colecalciferol",
    "0411000D0": "Donepezil",
    "0803041B0": "Anastrozole",
    "0407020Q0": "Morphine",
    "0209000C0": "Clopidogrel",
    "0403030Q0": "Sertraline",
    "0403030D0": "Citalopram",
    "0407010H0": "Paracetamol",
    "0103050P0": "Omeprazole",
    "0106040M0": "Lactulose",
    "0407010F0": "Co-codamol",
    "0606020A0": "Alendronic acid",
    "0409010N0": "Levodopa",
    "0501013B0": "Amoxicillin",
    "0501130R0": "Nitrofurantoin",
    "0501030I0": "Doxycycline",
    "0501050B0": "Clarithromycin",
    "0603020T0": "Prednisolone",
    "0104020L0": "Loperamide",
    "1001010P0": "Naproxen",
}
