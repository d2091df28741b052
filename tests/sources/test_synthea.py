"""load_synthea: every mapping rule and unmapped reason on a literal Synthea export."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from _support.canonical import write_folder
from riskstrat.exceptions import DataQualityWarning, SchemaError
from riskstrat.sources import CONTRACT, load_synthea

PATIENTS = """Id,BIRTHDATE,DEATHDATE,SSN,FIRST,LAST,GENDER,COUNTY
a1,1940-02-03,,999-1,Ann,Ames,F,Essex County
b2,1950-06-15,2022-03-01,999-2,Bob,Bell,M,Essex County
c3,1960-01-01,,999-3,Cy,Cole,X,
d4,1970-13-01,,999-4,Di,Dent,F,
"""
# gender_f; gender_m with a death; gender_other; month 13 -> rejected

ENCOUNTERS = """Id,START,STOP,PATIENT,ORGANIZATION,ENCOUNTERCLASS,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION
e1,2021-01-10T09:00:00Z,2021-01-10T13:00:00Z,a1,o1,emergency,50849002,Emergency Encounter,,
e2,2021-01-10T13:30:00Z,2021-01-14T10:00:00Z,a1,o1,inpatient,183452005,Encounter Inpatient,34095006,Dehydration
e3,2021-03-01T08:00:00Z,2021-03-03T08:00:00Z,a1,o1,inpatient,32485007,Hospital admission,,
e4,2021-04-01T08:00:00Z,2021-04-01T09:00:00Z,a1,o1,urgentcare,702927004,Urgent care clinic,,
e5,2021-05-01T08:00:00Z,2021-05-01T09:00:00Z,b2,o1,emergency,50849002,Emergency Encounter,,
e6,2021-05-05T08:00:00Z,2021-05-05T09:00:00Z,b2,o1,wellness,162673000,General examination,,
e7,2021-06-01T00:00:00Z,,b2,o1,inpatient,183452005,Encounter Inpatient,99999999,Unknown
e8,2021-07-01T08:00:00Z,2021-07-01T09:00:00Z,c3,o1,ambulatory,185349003,Check up,,
"""
# e1 ED before e2 (emergency_before_admission) so e2 is an emergency admission
# with primary from REASONCODE; e3 urgency unknown, no reason code; e4 urgent
# care; e5 ED not admitted; e6 wellness; e7 open spell, midnight start, reason
# code with no ICD-10; e8 ambulatory

CONDITIONS = """START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
2021-01-10,,a1,e2,34095006,Dehydration
2021-01-10,,a1,e2,13645005,Chronic obstructive lung disease
2021-01-10,,a1,e2,11111111,Typhoid or paratyphoid
2021-03-01,,a1,e3,22222222,Something else
2021-07-01,,c3,e8,34095006,Dehydration
2021-07-01,,c3,,34095006,Dehydration
2021-07-01,,c3,zz,34095006,Dehydration
"""

MEDICATIONS = """START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,DISPENSES
2021-01-14T10:00:00Z,,a1,p1,e2,243670,aspirin 81 MG Oral Tablet,1.0,12
2021-02-01T10:00:00Z,2021-03-01T10:00:00Z,b2,p1,e5,314076,lisinopril 10 MG Oral Tablet,1.0,1
2021-02-01T10:00:00Z,,zz,p1,e5,314076,lisinopril 10 MG Oral Tablet,1.0,1
"""

SYNTHEA = {
    "patients": PATIENTS,
    "encounters": ENCOUNTERS,
    "conditions": CONDITIONS,
    "medications": MEDICATIONS,
}
MAP = {"34095006": "E86", "13645005": "J44.9"}


def _load(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_synthea(path, **kwargs)


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "synthea", SYNTHEA)


def _status(t) -> dict[str, tuple[str, str | None]]:
    f = t.mapping.features.to_pylist()
    return {r["feature_group"]: (r["status"], r["reason"]) for r in f}


def _unmapped(t, table):
    return {
        r["reason"]: (r["rows"], r["first_row"])
        for r in t.mapping.unmapped.to_pylist()
        if r["source_table"] == table
    }


def _mapped(t, table, aspect):
    return {
        r["rule"]: r["rows"]
        for r in t.mapping.mapped.to_pylist()
        if r["source_table"] == table and r["aspect"] == aspect
    }


def test_patients(folder):
    t = _load(folder)
    p = {r["patient_id"]: r for r in t.patients.to_pylist()}
    assert sorted(p) == ["a1", "b2", "c3"]
    assert [p[k]["sex"] for k in ("a1", "b2", "c3")] == ["female", "male", "unknown"]
    assert p["b2"]["death_date"] == dt.date(2022, 3, 1)
    assert p["a1"]["locality"] == "Essex County" and p["c3"]["locality"] is None
    assert _mapped(t, "patients", "sex_rule") == {
        "gender_f": 2,
        "gender_m": 1,
        "gender_other": 1,
    }
    rej = [r for r in t.rejects.to_pylist() if r["table"] == "patients"]
    assert [(r["source_file"], r["row"], r["rule"], r["value"]) for r in rej] == [
        ("patients.csv", 4, "unparseable", "1970-13-01")
    ]


def test_admissions_are_inpatient_encounters_emergency_when_via_the_ed(folder):
    t = _load(folder)
    adm = {r["admission_date"]: r for r in t.admissions.to_pylist()}
    assert sorted(adm) == [
        dt.date(2021, 1, 10),
        dt.date(2021, 3, 1),
        dt.date(2021, 6, 1),
    ]
    assert adm[dt.date(2021, 1, 10)]["emergency"] is True
    assert adm[dt.date(2021, 1, 10)]["admission_time"] == dt.time(13, 30)
    assert adm[dt.date(2021, 1, 10)]["discharge_date"] == dt.date(2021, 1, 14)
    assert adm[dt.date(2021, 3, 1)]["emergency"] is None  # never guessed
    assert adm[dt.date(2021, 6, 1)]["discharge_date"] is None  # still in
    assert adm[dt.date(2021, 6, 1)]["admission_time"] is None  # midnight
    assert _mapped(t, "encounters", "urgency") == {
        "after_emergency_encounter": 1,
        "urgency_unknown": 2,
    }
    assert _unmapped(t, "encounters") == {
        "emergency_before_admission": (1, 1),
        "urgent_care": (1, 4),
        "emergency_not_admitted": (1, 5),
        "not_inpatient": (2, 6),
    }
    assert _status(t)["emergency_admissions"][0] == "partial"
    assert t.mapping.tables.to_pylist()[1] == {
        "source_table": "encounters",
        "source_file": "encounters.csv",
        "canonical_table": "admissions",
        "read": 8,
        "mapped": 3,
        "unmapped": 5,
    }


def test_inpatient_urgency_elective(folder):
    t = _load(folder, inpatient_urgency="elective")
    assert t.admissions["emergency"].to_pylist() == [True, False, False]
    assert _mapped(t, "encounters", "urgency")["plain_inpatient_elective"] == 2


def test_snomed_conditions_without_a_map_are_unmapped_and_reported(folder):
    t = _load(folder)
    assert t.admissions["primary_diagnosis"].null_count == 3
    assert t.admissions["secondary_diagnoses"].to_pylist() == [[], [], []]
    assert _unmapped(t, "conditions") == {
        "no_icd10_mapping": (4, 1),
        "not_in_admission": (1, 5),
        "no_encounter": (1, 6),
        "unknown_encounter": (1, 7),
    }
    status = _status(t)
    for group in ("frailty_diagnoses", "comorbidities"):
        assert status[group][0] == "not_computable"
        assert "SNOMED CT" in status[group][1]
    assert _mapped(t, "encounters", "primary_rule") == {
        "no_reason_code": 1,
        "reason_code_not_icd10": 2,
    }


def test_icd10_map_as_a_dict(folder):
    t = _load(folder, icd10_map=MAP)
    adm = {r["admission_date"]: r for r in t.admissions.to_pylist()}
    first = adm[dt.date(2021, 1, 10)]
    assert first["primary_diagnosis"] == "E86"  # the encounter's REASONCODE
    assert first["secondary_diagnoses"] == ["J449"]  # E86 is not repeated
    assert _mapped(t, "conditions", "icd10") == {"icd10_from_map": 2}
    assert _mapped(t, "encounters", "primary_rule") == {
        "no_reason_code": 1,
        "reason_code_icd10": 1,
        "reason_code_not_icd10": 1,
    }
    assert _status(t)["comorbidities"][0] == "partial"


def test_icd10_map_from_csv_with_an_ambiguous_code(folder, tmp_path):
    path = tmp_path / "map.csv"
    path.write_text(
        "snomed,icd10\n34095006,E86\n13645005,J44.9\n11111111,A01.0\n11111111,A01.1\n"
    )
    t = _load(folder, icd10_map=path)
    assert _unmapped(t, "conditions")["ambiguous_icd10"] == (1, 3)
    assert t.admissions["secondary_diagnoses"][0].as_py() == ["J449"]
    bad = tmp_path / "bad.csv"
    bad.write_text("just_one_column\nx\n")
    with pytest.raises(ValueError, match="two columns"):
        load_synthea(folder, icd10_map=bad)


def test_a_system_column_naming_icd10_is_used_as_is(tmp_path):
    conditions = (
        "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION\n"
        "2021-01-10,,a1,e2,ICD-10,W19,Fall\n"
        "2021-01-10,,a1,e2,SNOMED-CT,13645005,COPD\n"
    )
    folder = write_folder(
        tmp_path / "sys",
        {"patients": PATIENTS, "encounters": ENCOUNTERS, "conditions": conditions},
    )
    t = _load(folder)
    assert t.admissions["secondary_diagnoses"][0].as_py() == ["W19"]
    assert _mapped(t, "conditions", "icd10") == {"icd10_system": 1}
    assert _unmapped(t, "conditions") == {"no_icd10_mapping": (1, 2)}


def test_medications_are_rxnorm_prescriptions(folder):
    t = _load(folder)
    rx = t.prescriptions.to_pylist()
    assert [(r["patient_id"], r["issue_date"], r["drug_code"]) for r in rx] == [
        ("a1", dt.date(2021, 1, 14), "243670"),
        ("b2", dt.date(2021, 2, 1), "314076"),
    ]
    assert {r["drug_code_system"] for r in rx} == {"rxnorm"}
    assert rx[0]["drug_name"] == "aspirin 81 MG Oral Tablet"
    rej = [r for r in t.rejects.to_pylist() if r["table"] == "prescriptions"]
    assert [(r["row"], r["rule"]) for r in rej] == [(3, "unknown_patient")]
    status = _status(t)
    assert status["drugs"][0] == "partial" and "START" in status["drugs"][1]
    assert status["bnf_chapters"][0] == "not_computable"


def test_counts_reconcile_and_schema(folder):
    t = _load(folder, icd10_map=MAP)
    for row in t.counts.to_pylist():
        assert row["read"] == row["accepted"] + row["rejected"]
    for row in t.mapping.tables.to_pylist():
        assert row["read"] == row["mapped"] + row["unmapped"]
    for name, table in t.items():
        assert table.schema.equals(CONTRACT[name].arrow_schema())
    assert set(t.absent) == {"residences", "nominations", "enrolments", "screenings"}
    assert {"residence", "nominations", "deprivation", "practice"} <= set(
        t.mapping.not_computable
    )


def test_missing_optional_files(tmp_path):
    folder = write_folder(
        tmp_path / "min", {"patients": PATIENTS, "encounters": ENCOUNTERS}
    )
    t = _load(folder)
    assert "prescriptions" in t.absent
    status = _status(t)
    assert status["drugs"] == ("not_computable", "no medications")
    assert status["comorbidities"] == ("not_computable", "no conditions.csv")


def test_upper_case_file_names_and_parquet(tmp_path, folder):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = tmp_path / "pq"
    out.mkdir()
    for name in ("patients", "encounters"):
        table = pacsv.read_csv(folder / f"{name}.csv")
        pq.write_table(table, out / f"{name.upper()}.parquet")
    t = _load(out)
    assert t.admissions["emergency"].to_pylist() == [True, None, None]
    assert t.admissions["admission_time"][0].as_py() == dt.time(13, 30)


@pytest.mark.parametrize("missing", ["patients", "encounters"])
def test_missing_required_file_is_a_schema_error(tmp_path, missing):
    files = {k: v for k, v in SYNTHEA.items() if k != missing}
    with pytest.raises(SchemaError, match=f"required Synthea {missing} table"):
        load_synthea(write_folder(tmp_path / missing, files))


def test_missing_column_is_a_schema_error(tmp_path):
    files = dict(SYNTHEA, encounters=ENCOUNTERS.replace("ENCOUNTERCLASS", "CLASS"))
    with pytest.raises(
        SchemaError, match=r"lacks required column\(s\) \['encounterclass'\]"
    ):
        load_synthea(write_folder(tmp_path / "col", files))


def test_argument_errors(folder):
    with pytest.raises(ValueError, match="inpatient_urgency"):
        load_synthea(folder, inpatient_urgency="sometimes")
    with pytest.raises(TypeError, match="extract_date"):
        load_synthea(folder, extract_date="2021-01-01")


def test_encounter_codes_and_a_bounded_ed_window(tmp_path):
    enc = """Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE
x1,2021-01-01T09:00:00Z,2021-01-03T13:00:00Z,a1,emergency,50849002
x2,2021-01-02T13:30:00Z,2021-01-04T10:00:00Z,a1,inpatient,32485007
x3,2021-02-01T13:30:00Z,2021-02-04T10:00:00Z,a1,inpatient,183478001
x4,2021-03-01T13:30:00Z,2021-03-04T10:00:00Z,a1,inpatient,8715000
x5,2021-04-01T13:30:00Z,2021-04-04T10:00:00Z,a1,inpatient,183452005
"""
    # x1 is an ED encounter that ended after x2 started: not "ended on the
    # admission day or the day before", so it does not make x2 emergency.
    folder = write_folder(
        tmp_path / "s",
        {"patients": PATIENTS, "encounters.csv": enc},
    )
    t = _load(folder)
    assert t.admissions["emergency"].to_pylist() == [None, True, False, None]
    assert _mapped(t, "encounters", "urgency") == {
        "emergency_encounter_code": 1,
        "elective_encounter_code": 1,
        "urgency_unknown": 2,
    }


def test_contiguous_inpatient_encounters_are_one_spell(tmp_path):
    enc = """Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE,REASONCODE
y1,2021-01-02T13:30:00Z,2021-01-04T10:00:00Z,a1,inpatient,183478001,
y2,2021-01-04T11:00:00Z,2021-01-09T10:00:00Z,a1,inpatient,32485007,
y3,2021-02-01T13:30:00Z,2021-02-04T10:00:00Z,a1,inpatient,32485007,
"""
    # y2 starts on y1's discharge day: one spell, emergency as y1 was.
    files = {"patients": PATIENTS, "encounters.csv": enc}
    t = _load(write_folder(tmp_path / "s", files))
    got = [
        (
            r["admission_date"].isoformat(),
            r["discharge_date"].isoformat(),
            r["emergency"],
        )
        for r in t.admissions.to_pylist()
    ]
    assert got == [
        ("2021-01-02", "2021-01-09", True),
        ("2021-02-01", "2021-02-04", None),
    ]
    assert _mapped(t, "encounters", "spell") == {
        "first_stay_of_spell": 2,
        "joined_into_spell": 1,
    }
    off = _load(write_folder(tmp_path / "t", files), join_spells=False)
    assert off.admissions.num_rows == 3
