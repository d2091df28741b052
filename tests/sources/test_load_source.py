"""load_source: one dispatcher, the report on the tables; MappingReport invariants."""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow as pa
import pytest

from _support.canonical import VALID, load_quietly, write_folder
from _support.omop import OMOP, write_csv, write_duckdb
from riskstrat.exceptions import DataQualityWarning
from riskstrat.sources import (
    FEATURE_GROUPS,
    SOURCES,
    MappingReport,
    SourceTables,
    Tables,
    load_source,
)
from riskstrat.sources._mapping import TABLES_SCHEMA, UNMAPPED_SCHEMA

SYNTHEA = {
    "patients": "Id,BIRTHDATE,DEATHDATE,GENDER\nu1,1940-02-03,,F\n",
    "encounters": "Id,START,STOP,PATIENT,ENCOUNTERCLASS,REASONCODE\n"
    "e1,2021-03-01T09:00:00Z,2021-03-01T12:00:00Z,u1,emergency,\n"
    "e2,2021-03-01T12:30:00Z,2021-03-04T10:00:00Z,u1,inpatient,34095006\n",
}


def _quiet(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_source(path, **kwargs)


def test_canonical_is_load_tables_with_an_identity_report(valid_folder):
    t = load_source(valid_folder, extract_date=dt.date(2023, 1, 1))
    plain = load_quietly(valid_folder, extract_date=dt.date(2023, 1, 1))
    assert isinstance(t, SourceTables) and isinstance(t, Tables)
    for name, table in t.items():
        assert table.equals(plain[name])
    assert t.counts.equals(plain.counts) and t.rejects.equals(plain.rejects)
    report = t.mapping
    assert report.source == "canonical"
    rows = report.tables.to_pylist()
    assert [r["source_table"] for r in rows] == list(VALID)
    assert all(r["mapped"] == r["read"] and r["unmapped"] == 0 for r in rows)
    assert report.unmapped.num_rows == 0
    assert set(report.features["feature_group"].to_pylist()) == set(FEATURE_GROUPS)
    assert "residence" not in report.not_computable  # residences were supplied


def test_canonical_absent_tables_are_not_computable(tmp_path):
    folder = write_folder(
        tmp_path / "c",
        {"patients": VALID["patients"], "admissions": VALID["admissions"]},
    )
    report = load_source(folder).mapping
    assert {"drugs", "residence", "nominations"} <= set(report.not_computable)
    assert "emergency_admissions" not in report.not_computable


def test_drug_code_system_option_reaches_load_tables(tmp_path):
    rx = "patient_id,issue_date,drug_code\np1,2021-02-01,1191\n"
    folder = write_folder(tmp_path / "rx", dict(VALID, prescriptions=rx))
    t = load_source(folder, drug_code_system="rxnorm")
    assert t.prescriptions["drug_code_system"].to_pylist() == ["rxnorm"]
    assert "bnf_chapters" in t.mapping.not_computable


def test_omop_folder_and_duckdb_with_schema(tmp_path):
    t = _quiet(write_csv(tmp_path / "o", OMOP), source="omop")
    assert t.mapping.source == "omop" and t.admissions.num_rows == 6
    db = write_duckdb(tmp_path / "o.duckdb", OMOP, schema="cdm")
    t2 = _quiet(db, source="omop", schema="cdm", inpatient_urgency="elective")
    assert t2.admissions["emergency"].null_count == 0


def test_synthea_with_options(tmp_path):
    folder = write_folder(tmp_path / "s", SYNTHEA)
    t = load_source(folder, source="synthea", icd10_map={"34095006": "E86"})
    assert t.mapping.source == "synthea"
    assert t.admissions.to_pylist()[0]["primary_diagnosis"] == "E86"
    assert t.admissions.to_pylist()[0]["emergency"] is True


def test_extract_date_is_passed_on(tmp_path):
    folder = write_folder(tmp_path / "s", SYNTHEA)
    t = _quiet(folder, source="synthea", extract_date=dt.date(2021, 3, 2))
    assert t.extract_date == dt.date(2021, 3, 2)
    # The shared validation rejects any date after the extract, discharge included.
    assert t.admissions.num_rows == 0
    assert [(r["column"], r["rule"]) for r in t.rejects.to_pylist()] == [
        ("discharge_date", "after_extract_date")
    ]


def test_errors(valid_folder):
    with pytest.raises(ValueError, match=r"must be one of \['canonical', 'omop'"):
        load_source(valid_folder, source="fhir")
    with pytest.raises(ValueError, match=r"does not take \['schema'\]"):
        load_source(valid_folder, schema="cdm")
    with pytest.raises(ValueError, match=r"does not take \['icd10_map'\]"):
        load_source(valid_folder, source="omop", icd10_map={})
    assert SOURCES == ("canonical", "omop", "synthea")


def test_features_run_on_any_source(tmp_path):
    from riskstrat.features import build_features

    t = _quiet(write_csv(tmp_path / "o", OMOP), source="omop")
    X = build_features(t, as_of=dt.date(2022, 1, 1))
    assert X["patient_id"].to_pylist() == ["1", "2", "3", "4"]  # 2 dies in March
    row = X.to_pylist()[0]
    assert row["residence_type"] == "nursing_home"
    assert row["nominated_12m"] is None  # not computable, so null, not zero


# -- MappingReport ------------------------------------------------------------------


def _report(**changes):
    tables = pa.Table.from_pylist(
        [
            {
                "source_table": "person",
                "source_file": "person.csv",
                "canonical_table": "patients",
                "read": 3,
                "mapped": 2,
                "unmapped": 1,
            }
        ],
        schema=TABLES_SCHEMA,
    )
    unmapped = pa.Table.from_pylist(
        [
            {
                "source_table": "person",
                "reason": "r",
                "rows": 1,
                "first_row": 2,
                "description": "d",
            }
        ],
        schema=UNMAPPED_SCHEMA,
    )
    return MappingReport(
        **{"source": "omop", "tables": tables, "unmapped": unmapped} | changes
    )


def test_report_counts_must_reconcile():
    report = _report()
    assert report.not_computable == () and report.partial == ()
    assert "person -> patients: read 3, mapped 2, unmapped 1" in report.summary()
    with pytest.raises(ValueError, match="unmapped reasons do not add up"):
        _report(unmapped=UNMAPPED_SCHEMA.empty_table())
    bad = _report().tables.set_column(
        3, TABLES_SCHEMA.field("read"), pa.array([4], pa.int64())
    )
    with pytest.raises(ValueError, match="read != mapped \\+ unmapped"):
        _report(tables=bad)
    with pytest.raises(ValueError, match="must have schema"):
        _report(tables=pa.table({"x": [1]}))
