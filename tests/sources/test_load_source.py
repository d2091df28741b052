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


def test_the_mapping_report_is_kept_in_a_validated_folder(tmp_path):
    from riskstrat.features import make_labels
    from riskstrat.sources._mapping import read_mapping

    t = _quiet(write_csv(tmp_path / "omop", OMOP), source="omop")
    assert "death" not in t.mapping.not_computable
    min_tables = {k: OMOP[k] for k in ("person", "visit_occurrence")}
    bare = _quiet(write_csv(tmp_path / "min", min_tables), source="omop")
    assert "death" in bare.mapping.not_computable
    folder = bare.to_parquet(tmp_path / "validated")
    report = read_mapping(folder)
    assert report is not None and report.source == "omop"
    assert report.features.equals(bare.mapping.features)
    assert report.notes == bare.mapping.notes
    # Labels read from the folder know the death table was missing: unknown.
    y = make_labels(folder, as_of=dt.date(2021, 1, 1), horizon_days=30)
    assert y["death"].null_count == y.num_rows
    # A report written for other tables is not trusted.
    t.to_parquet(tmp_path / "other")
    for part in ("tables", "mapped", "unmapped", "features"):
        name = f"_mapping_{part}.parquet"
        (folder / name).write_bytes((tmp_path / "other" / name).read_bytes())
    assert read_mapping(folder) is None


def test_a_future_birth_is_rejected_without_an_extract_date(tmp_path):
    files = dict(VALID)
    files["patients"] = VALID["patients"] + "p9,2099-01-01,female,,,,,,\n"
    t = load_quietly(write_folder(tmp_path / "d", files))
    (r,) = [r for r in t.rejects.to_pylist() if r["table"] == "patients"]
    assert (r["column"], r["rule"], r["value"]) == (
        "birth_date",
        "impossible_date",
        "2099-01-01",
    )


def test_a_timestamp_in_a_date_column_says_what_is_expected(tmp_path):
    files = dict(VALID)
    files["nominations"] = VALID["nominations"] + "p1,2021-07-01T10:00:00,x\n"
    t = load_quietly(write_folder(tmp_path / "d", files))
    (r,) = t.rejects.to_pylist()
    assert r["rule"] == "unparseable"
    assert "expected YYYY-MM-DD" in r["message"]


def test_cli_adapter_options_partial_groups_and_one_data_option(tmp_path):
    from typer.testing import CliRunner

    from riskstrat.cli import app

    folder = write_csv(tmp_path / "omop", OMOP)
    runner = CliRunner()
    base = ["validate", "--data", str(folder), "--source", "omop"]
    base += ["--rejects", str(tmp_path / "r.csv")]
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output
    assert "partial:" in r.output and "of 6 admissions" in r.output
    assert (tmp_path / "v" / "_mapping_features.parquet").is_file()
    r = runner.invoke(app, [*base, "--inpatient-urgency", "elective"])
    assert r.exit_code == 0, r.output
    assert "plain_inpatient_elective" not in r.output  # rules are in the report
    r = runner.invoke(app, [*base, "--icd10-map", str(tmp_path / "map.csv")])
    assert r.exit_code == 2 and "icd10_map" in r.output
    args = ["features", "--data", str(tmp_path / "v"), "--as-of", "2021-06-01"]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "x.parquet")])
    assert r.exit_code == 0, r.output
    assert "Mapping from omop" in r.output  # the kept report is shown again
