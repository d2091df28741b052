"""Literal canonical tables for tests (valid), and helpers to write and load them."""

from __future__ import annotations

import warnings
from pathlib import Path

from riskstrat.exceptions import DataQualityWarning
from riskstrat.sources import load_tables

PATIENTS = """patient_id,birth_date,sex,locality,practice_id,deprivation_decile,death_date,registration_date,deregistration_date
p1,1940-05-01,female,Mid Essex,P001,3,,2000-01-01,
p2,1950-06-15,male,Mid Essex,P001,7,2022-03-01,2000-01-01,
p3,1980-01-01,female,West Essex,P002,,,2010-01-01,2021-06-30
"""
ADMISSIONS = """patient_id,admission_date,discharge_date,emergency,primary_diagnosis,secondary_diagnoses,admission_time
p1,2021-01-10,2021-01-15,true,E86.X,I10X|j44.9,18:30
p1,2021-05-01,2021-05-01,false,H25.9,,09:00
p2,2022-02-20,,1,N39.0,,
"""
PRESCRIPTIONS = """patient_id,issue_date,drug_code,drug_code_system,drug_name
p1,2021-02-01,0205051R0,bnf,Ramipril
p2,2021-03-01,0212000B0,BNF,Atorvastatin
"""
RESIDENCES = """patient_id,start_date,end_date,residence_type
p1,2021-06-01,,nursing_home
"""
NOMINATIONS = """patient_id,date,reason
p1,2021-07-01,complex needs
"""
ENROLMENTS = """patient_id,enrol_date,end_date,locality
p1,2021-08-01,,Mid Essex
"""
SCREENINGS = """patient_id,date,outcome
p1,2021-07-20,Accepted
"""
VALID = {
    "patients": PATIENTS,
    "admissions": ADMISSIONS,
    "prescriptions": PRESCRIPTIONS,
    "residences": RESIDENCES,
    "nominations": NOMINATIONS,
    "enrolments": ENROLMENTS,
    "screenings": SCREENINGS,
}


def write_folder(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / (name if "." in name else f"{name}.csv")
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def load_quietly(path, **kwargs):
    """load_tables with its DataQualityWarnings silenced (tests check them apart)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_tables(path, **kwargs)


def tables_from_rows(absent: tuple[str, ...] = (), extract_date=None, **rows):
    """A Tables object from lists of dicts (missing keys are null)."""
    import pyarrow as pa

    from riskstrat.sources import CONTRACT, Tables

    out = {}
    for name, schema in CONTRACT.items():
        items = rows.get(name, [])
        filled = []
        for r in items:
            row = {c: r.get(c) for c in schema.names}
            if name == "admissions" and row["secondary_diagnoses"] is None:
                row["secondary_diagnoses"] = []
            if name == "admissions" and "diagnosis_code_system" not in r:
                row["diagnosis_code_system"] = "icd10"
            if name == "prescriptions" and row["drug_code_system"] is None:
                row["drug_code_system"] = "bnf"
            filled.append(row)
        out[name] = pa.Table.from_pylist(filled, schema=schema.arrow_schema())
    return Tables(**out, absent=absent, extract_date=extract_date)


def decoded(table):
    """``table`` with dictionary-encoded columns as plain text.

    Two dictionary columns holding the same values can differ in their
    dictionaries (a filter keeps unused entries), so tables are compared decoded.
    """
    import pyarrow as pa

    fields = [
        pa.field(f.name, f.type.value_type, nullable=f.nullable)
        if pa.types.is_dictionary(f.type)
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))
