"""load_tables: every bad-input class on literal tiny tables, with reconciliation."""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _support.canonical import VALID, decoded, load_quietly, write_folder
from riskstrat.exceptions import DataQualityWarning, SchemaError
from riskstrat.sources import CONTRACT, RULES, TABLE_NAMES, load_tables

EXTRACT = dt.date(2023, 1, 1)


def _reconciles(tables):
    for row in tables.counts.to_pylist():
        assert row["read"] == row["accepted"] + row["rejected"], row
        joined = (tables.joined_stays or 0) if row["table"] == "admissions" else 0
        assert row["accepted"] == tables[row["table"]].num_rows + joined
        n_rej = sum(1 for t in tables.rejects["table"].to_pylist() if t == row["table"])
        assert n_rej == row["rejected"]


def test_valid_folder_loads_typed_and_normalised(valid_folder):
    t = load_tables(valid_folder, extract_date=EXTRACT)
    _reconciles(t)
    assert t.rejects.num_rows == 0
    assert t.absent == ()
    for name in TABLE_NAMES:
        assert t[name].schema.equals(CONTRACT[name].arrow_schema())
    adm = t.admissions.to_pylist()
    assert adm[0]["primary_diagnosis"] == "E86X"
    assert adm[0]["secondary_diagnoses"] == ["I10X", "J449"]
    assert adm[0]["emergency"] is True and adm[1]["emergency"] is False
    assert adm[0]["admission_time"] == dt.time(18, 30)
    assert adm[1]["discharge_date"] == adm[1]["admission_date"]  # same-day spell
    assert adm[2]["discharge_date"] is None  # still in hospital
    assert adm[1]["secondary_diagnoses"] == []
    assert t.prescriptions["drug_code_system"].to_pylist() == ["bnf", "bnf"]
    assert t.patients["deprivation_decile"].to_pylist() == [3, 7, None]
    assert t.extract_date == EXTRACT


# (table, bad row appended to the valid CSV, expected column, rule, value)
BAD_ROWS = [
    ("patients", "p9,1940-01-01,,,,,,,", "sex", "missing_required", None),
    ("patients", "p9,1950-02-30,male,,,,,,", "birth_date", "unparseable", "1950-02-30"),
    ("patients", "p9,15/02/1950,male,,,,,,", "birth_date", "unparseable", "15/02/1950"),
    ("patients", "p9,1950-01-01,alien,,,,,,", "sex", "not_allowed", "alien"),
    (
        "patients",
        "p9,1950-01-01,male,,,11,,,",
        "deprivation_decile",
        "out_of_range",
        "11",
    ),
    (
        "patients",
        "p9,1950-01-01,male,,,x3,,,",
        "deprivation_decile",
        "unparseable",
        "x3",
    ),
    (
        "patients",
        "p9,1850-01-01,male,,,,,,",
        "birth_date",
        "impossible_date",
        "1850-01-01",
    ),
    (
        "patients",
        "p9,2024-01-01,male,,,,,,",
        "birth_date",
        "impossible_date",
        "2024-01-01",
    ),
    (
        "patients",
        "p9,1950-01-01,male,,,,1949-01-01,,",
        "death_date",
        "end_before_start",
        "1949-01-01",
    ),
    (
        "patients",
        "p9,1950-01-01,male,,,,,2010-01-01,2009-01-01",
        "deregistration_date",
        "end_before_start",
        "2009-01-01",
    ),
    (
        "patients",
        "p9,1950-01-01,male,,,,2023-06-01,,",
        "death_date",
        "after_extract_date",
        "2023-06-01",
    ),
    (
        "admissions",
        "p1,,2021-01-02,true,,,",
        "admission_date",
        "missing_required",
        None,
    ),
    (
        "admissions",
        "p1,2021-02-01,2021-02-02,maybe,,,",
        "emergency",
        "unparseable",
        "maybe",
    ),
    (
        "admissions",
        "p1,2021-02-01,2021-02-02,true,,,24:30",
        "admission_time",
        "unparseable",
        "24:30",
    ),
    (
        "admissions",
        "p1,1930-02-01,1930-02-02,true,,,",
        "admission_date",
        "impossible_date",
        "1930-02-01",
    ),
    (
        "admissions",
        "p1,2021-02-05,2021-02-01,true,,,",
        "discharge_date",
        "end_before_start",
        "2021-02-01",
    ),
    (
        "admissions",
        "p1,2023-02-01,,true,,,",
        "admission_date",
        "after_extract_date",
        "2023-02-01",
    ),
    (
        "admissions",
        "p1,2022-12-30,2023-01-05,true,,,",
        "discharge_date",
        "after_extract_date",
        "2023-01-05",
    ),
    (
        "admissions",
        "p404,2021-02-01,2021-02-02,true,,,",
        "patient_id",
        "unknown_patient",
        "p404",
    ),
    (
        "admissions",
        "p2,2022-03-02,2022-03-03,true,,,",
        "admission_date",
        "after_death",
        "2022-03-02",
    ),
    ("prescriptions", "p1,2021-02-01,,bnf,", "drug_code", "missing_required", None),
    (
        "prescriptions",
        "p1,2021-02-01,0101,snomed,",
        "drug_code_system",
        "not_allowed",
        "snomed",
    ),
    (
        "prescriptions",
        "p2,2022-05-01,0101010A0,bnf,",
        "issue_date",
        "after_death",
        "2022-05-01",
    ),
    ("residences", "p1,2021-06-01,,hotel", "residence_type", "not_allowed", "hotel"),
    (
        "residences",
        "p1,2021-06-01,2021-05-01,private",
        "end_date",
        "end_before_start",
        "2021-05-01",
    ),
    ("nominations", "p1,2021-13-01,x", "date", "unparseable", "2021-13-01"),
    ("nominations", ",2021-03-01,x", "patient_id", "missing_required", None),
    (
        "enrolments",
        "p1,2021-08-01,2021-07-01,",
        "end_date",
        "end_before_start",
        "2021-07-01",
    ),
    ("enrolments", "p3,2022-01-01,,", "enrol_date", "after_extract_date", None),
]
BAD_ROWS += [
    (
        "residences",
        "p1,2021-06-01,,nursing_home,extra",
        None,
        "malformed_row",
        "p1,2021-06-01,,nursing_home,extra",
    ),
    ("nominations", "p1,2021-07-01,complex needs", None, "duplicate", None),
]
BAD_ROWS[-3] = (
    "enrolments",
    "p1,2023-03-01,,",
    "enrol_date",
    "after_extract_date",
    "2023-03-01",
)


@pytest.mark.parametrize(
    ("table", "row", "column", "rule", "value"),
    BAD_ROWS,
    ids=[f"{t}-{r}-{c}" for t, _, c, r, _ in BAD_ROWS],
)
def test_each_bad_input_class_goes_to_rejects(
    tmp_path, table, row, column, rule, value
):
    files = dict(VALID)
    files[table] = VALID[table] + row + "\n"
    folder = write_folder(tmp_path / "d", files)
    with pytest.warns(DataQualityWarning, match=f"{table}.csv: 1 rows rejected"):
        t = load_tables(folder, extract_date=EXTRACT)
    _reconciles(t)
    rej = t.rejects.to_pylist()
    assert len(rej) == 1, rej
    r = rej[0]
    n_valid = VALID[table].count("\n") - 1
    assert (r["table"], r["source_file"], r["row"]) == (
        table,
        f"{table}.csv",
        n_valid + 1,
    )
    assert (r["column"], r["rule"], r["value"]) == (column, rule, value)
    assert f"{table}.csv row {n_valid + 1}" in r["message"]
    assert t[table].num_rows == n_valid


def test_every_rule_is_exercised():
    assert {rule for *_, rule, _ in BAD_ROWS} | {"duplicate_patient_id"} == set(RULES)


def test_duplicate_patient_ids_reject_every_copy_and_their_events(tmp_path):
    files = dict(VALID)
    files["patients"] = VALID["patients"] + "p1,1940-05-01,female,,,,,,\n"
    folder = write_folder(tmp_path / "d", files)
    t = load_quietly(folder, extract_date=EXTRACT)
    _reconciles(t)
    rej = t.rejects.to_pandas()
    pat = rej[rej.table == "patients"]
    assert pat.row.tolist() == [1, 4]
    assert set(pat.rule) == {"duplicate_patient_id"}
    # p1's events now have no accepted patient.
    events = rej[rej.table != "patients"]
    assert set(events.rule) == {"unknown_patient"}
    assert set(events.patient_id) == {"p1"}
    assert "p1" not in t.patients["patient_id"].to_pylist()


def test_first_rule_in_priority_order_is_recorded(tmp_path):
    files = dict(VALID)
    # unparseable time (2) and discharge before admission (6) and unknown patient (9)
    files["admissions"] = (
        VALID["admissions"] + "p404,2021-02-05,2021-02-01,true,,,99:99\n"
    )
    t = load_quietly(write_folder(tmp_path / "d", files), extract_date=EXTRACT)
    assert t.rejects["rule"].to_pylist() == ["unparseable"]


def test_unknown_urgency_is_kept_as_null_not_guessed(tmp_path):
    files = dict(VALID)
    files["admissions"] = VALID["admissions"] + "p1,2021-09-01,2021-09-03,,,,\n"
    t = load_tables(write_folder(tmp_path / "d", files), extract_date=EXTRACT)
    assert t.admissions["emergency"].to_pylist()[-1] is None
    assert t.rejects.num_rows == 0


def test_bom_crlf_header_case_and_extra_columns_are_accepted(tmp_path):
    patients = (
        "\ufeffPatient_ID , Birth_Date,SEX,favourite_colour\r\np1,1940-05-01,F,blue\r\n"
    )
    admissions = "patient_id,admission_date,discharge_date,emergency\r\np1,2021-01-10,2021-01-11,Y\r\n"
    folder = write_folder(
        tmp_path / "d",
        {
            "patients": patients.encode("utf-8"),
            "admissions": admissions.encode("utf-8"),
        },
    )
    t = load_tables(folder)
    assert t.patients.to_pylist()[0]["sex"] == "female"
    assert t.patients.to_pylist()[0]["birth_date"] == dt.date(1940, 5, 1)
    assert t.admissions["emergency"].to_pylist() == [True]
    assert "favourite_colour" not in t.patients.column_names
    assert set(t.absent) == {
        "prescriptions",
        "residences",
        "nominations",
        "enrolments",
        "screenings",
    }


def test_year_of_birth_gives_mid_year_birth_date(tmp_path):
    folder = write_folder(
        tmp_path / "d",
        {
            "patients": "patient_id,year_of_birth,sex\np1,1940,male\np2,19x0,male\n",
            "admissions": "patient_id,admission_date,emergency\n",
        },
    )
    t = load_quietly(folder)
    assert t.patients["birth_date"].to_pylist() == [dt.date(1940, 7, 1)]
    r = t.rejects.to_pylist()[0]
    assert (r["column"], r["rule"], r["value"]) == ("birth_date", "unparseable", "19x0")


def test_missing_required_column_is_a_schema_error_with_diff(tmp_path):
    files = dict(VALID)
    files["admissions"] = VALID["admissions"].replace("admission_date", "admision_date")
    with pytest.raises(
        SchemaError,
        match=r"admissions.csv: the admissions table lacks required column\(s\) \['admission_date'\]",
    ) as e:
        load_tables(write_folder(tmp_path / "d", files))
    assert "did you mean 'admision_date'" in str(e.value)
    assert "expected (required)" in str(e.value) and "found:" in str(e.value)


def test_missing_required_table_is_a_schema_error(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "admissions"}
    with pytest.raises(SchemaError, match="required admissions table is missing"):
        load_tables(write_folder(tmp_path / "d", files))


def test_csv_and_parquet_of_one_table_is_ambiguous(tmp_path):
    folder = write_folder(tmp_path / "d", VALID)
    pq.write_table(pa.table({"patient_id": ["p1"]}), folder / "patients.parquet")
    with pytest.raises(SchemaError, match=r"both patients\.csv and patients\.parquet"):
        load_tables(folder)


def test_zero_byte_required_file_is_an_error(tmp_path):
    files = dict(VALID, patients=b"")
    with pytest.raises(SchemaError, match=r"patients.csv is empty \(0 bytes\)"):
        load_tables(write_folder(tmp_path / "d", files))


def test_zero_byte_optional_file_is_absent_with_a_warning(tmp_path):
    files = dict(VALID, residences=b"")
    with pytest.warns(DataQualityWarning, match="residences.csv is empty"):
        t = load_tables(write_folder(tmp_path / "d", files))
    assert t.absent == ("residences",)
    assert t.residences.num_rows == 0


def test_header_only_file_is_zero_rows(tmp_path):
    files = dict(VALID, nominations="patient_id,date,reason\n")
    t = load_tables(write_folder(tmp_path / "d", files))
    assert t.nominations.num_rows == 0
    assert "nominations" not in t.absent


def test_duplicate_header_is_a_schema_error(tmp_path):
    files = dict(VALID, nominations="patient_id,date,Date\np1,2021-01-01,2021-01-01\n")
    with pytest.raises(
        SchemaError, match=r"column\(s\) \['date'\] appear more than once"
    ):
        load_tables(write_folder(tmp_path / "d", files))


def test_parquet_with_native_types(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "patient_id": ["a", "b"],
                "birth_date": pa.array(
                    [dt.datetime(1940, 1, 1, 12), dt.datetime(1950, 1, 1)]
                ),
                "sex": ["female", "male"],
                "deprivation_decile": pa.array([2.0, None]),
            }
        ),
        folder / "patients.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "patient_id": ["a"],
                "admission_date": pa.array([dt.date(2020, 1, 1)]),
                "emergency": pa.array([True]),
                "secondary_diagnoses": pa.array([["k59.0", "E86"]]),
                "admission_time": pa.array([dt.time(23, 15)], pa.time64("us")),
            }
        ),
        folder / "admissions.parquet",
    )
    t = load_tables(folder)
    assert t.patients["birth_date"].to_pylist() == [
        dt.date(1940, 1, 1),
        dt.date(1950, 1, 1),
    ]
    assert t.patients["deprivation_decile"].to_pylist() == [2, None]
    assert t.admissions.to_pylist()[0]["secondary_diagnoses"] == ["K590", "E86"]
    assert t.admissions.to_pylist()[0]["admission_time"] == dt.time(23, 15)


def test_round_trip_through_parquet_keeps_tables_and_absence(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "enrolments"}
    t = load_tables(write_folder(tmp_path / "d", files), extract_date=EXTRACT)
    again = load_tables(t.to_parquet(tmp_path / "out"), extract_date=EXTRACT)
    for name in TABLE_NAMES:
        assert again[name].equals(t[name]), name
    assert again.absent == ("enrolments",)


def test_drug_code_system_argument_fills_a_missing_column(tmp_path):
    files = dict(
        VALID, prescriptions="patient_id,issue_date,drug_code\np1,2021-01-01,B01AF02\n"
    )
    t = load_tables(write_folder(tmp_path / "d", files), drug_code_system="atc")
    assert t.prescriptions["drug_code_system"].to_pylist() == ["atc"]
    with pytest.raises(ValueError, match="`drug_code_system` parameter of load_tables"):
        load_tables(tmp_path / "d", drug_code_system="snomed")


def test_not_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such folder"):
        load_tables(tmp_path / "nope")
    (tmp_path / "f.csv").write_text("x")
    with pytest.raises(NotADirectoryError):
        load_tables(tmp_path / "f.csv")


def test_validation_in_slices_gives_the_same_tables_rejects_and_counts(
    tmp_path, monkeypatch
):
    import riskstrat.sources._loader as loader

    files = dict(VALID)
    for table, row, *_ in BAD_ROWS:  # every bad-input class at once
        if table != "patients":
            files[table] = files[table] + row + "\n"
    folder = write_folder(tmp_path / "d", files)
    whole = load_quietly(folder, extract_date=EXTRACT)
    monkeypatch.setattr(loader, "_CHUNK_ROWS", 2)
    sliced = load_quietly(folder, extract_date=EXTRACT)
    assert sliced.rejects.num_rows > 5
    assert sliced.rejects.equals(whole.rejects)
    assert sliced.counts.equals(whole.counts)
    for name in TABLE_NAMES:
        assert decoded(sliced[name]).equals(decoded(whole[name])), name


def _rx_folder(tmp_path, rx: pa.Table):
    folder = write_folder(
        tmp_path / "d", {k: v for k, v in VALID.items() if k != "prescriptions"}
    )
    pq.write_table(rx, folder / "prescriptions.parquet")
    return folder


DICT_COLUMNS = ("drug_code", "drug_code_system", "drug_name")


def test_drug_columns_are_dictionary_encoded_from_csv_and_plain_parquet(tmp_path):
    from_csv = load_tables(write_folder(tmp_path / "c", VALID))
    rx = pa.table(
        {
            "patient_id": ["p1", "p1", "p2"],
            "issue_date": pa.array([dt.date(2021, 1, d) for d in (1, 2, 3)]),
            "drug_code": ["0206020A0", "0206020A0", "0205051R0"],
            "drug_code_system": ["BNF", "bnf", "bnf"],
            "drug_name": ["Amlodipine", "Amlodipine", "Ramipril"],
        }
    )
    from_parquet = load_tables(_rx_folder(tmp_path, rx))
    for t in (from_csv, from_parquet):
        for col in DICT_COLUMNS:
            assert pa.types.is_dictionary(t.prescriptions[col].type), col
    assert from_parquet.prescriptions["drug_code_system"].to_pylist() == ["bnf"] * 3
    assert (
        from_parquet.prescriptions["drug_name"].to_pylist()
        == rx["drug_name"].to_pylist()
    )


def test_dictionary_encoded_parquet_is_cleaned_on_its_values(tmp_path):
    # A source that stores codes dictionary-encoded, with padding, upper case and
    # an empty code: cleaned like text, the empty code rejected with its row.
    rx = pa.table(
        {
            "patient_id": ["p1", "p1", "p2", "p2"],
            "issue_date": pa.array([dt.date(2021, 1, d) for d in (1, 2, 3, 4)]),
            "drug_code": pa.array(
                [" 0206020A0", "0206020A0", "", "317896006 "]
            ).dictionary_encode(),
            "drug_code_system": pa.array(
                ["BNF", "bnf", "bnf", "Dmd"]
            ).dictionary_encode(),
            "drug_name": pa.array(
                ["Amlodipine", None, "x", "Ramipril"]
            ).dictionary_encode(),
        }
    )
    t = load_quietly(_rx_folder(tmp_path, rx))
    got = t.prescriptions
    assert got["drug_code"].to_pylist() == ["0206020A0", "0206020A0", "317896006"]
    assert got["drug_code_system"].to_pylist() == ["bnf", "bnf", "dmd"]
    assert got["drug_name"].to_pylist() == ["Amlodipine", None, "Ramipril"]
    for col in DICT_COLUMNS:
        assert got[col].type == CONTRACT["prescriptions"][col].arrow_type
    rej = t.rejects.to_pylist()
    assert [(r["row"], r["column"], r["rule"]) for r in rej] == [
        (3, "drug_code", "missing_required")
    ]
    _reconciles(t)


def test_clean_dictionary_column_is_kept_without_decoding(tmp_path):
    # The dictionary is not in order of first appearance: encoding the decoded
    # values again would give ["0206020A0", "0205051R0"] and indices [0, 1, 0].
    codes = pa.DictionaryArray.from_arrays(
        pa.array([1, 0, 1], pa.int32()), pa.array(["0205051R0", "0206020A0"])
    )
    rx = pa.table(
        {
            "patient_id": ["p1", "p1", "p2"],
            "issue_date": pa.array([dt.date(2021, 1, d) for d in (1, 2, 3)]),
            "drug_code": codes,
        }
    )
    got = load_tables(_rx_folder(tmp_path, rx)).prescriptions["drug_code"]
    assert got.to_pylist() == ["0206020A0", "0205051R0", "0206020A0"]
    assert got.chunk(0).dictionary.to_pylist() == ["0205051R0", "0206020A0"]
    assert got.chunk(0).indices.to_pylist() == [1, 0, 1]


def test_only_string_columns_can_be_dictionary_encoded():
    from riskstrat.sources import Column

    with pytest.raises(ValueError, match="only a string column"):
        Column(name="issue_date", dtype="date", dictionary=True)


def test_rejects_warning_points_at_the_callers_line(tmp_path):
    files = dict(VALID)
    files["patients"] = files["patients"] + "p9,1940-01-01,,,,,,,\n"
    folder = write_folder(tmp_path / "d", files)
    with pytest.warns(DataQualityWarning, match="missing_required") as record:
        load_tables(folder)
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("drug_code", "kept", "rejected_rows"),
    [
        # a null held in the dictionary itself is a missing value like any other
        (
            pa.DictionaryArray.from_arrays(
                pa.array([0, 1], pa.int32()), pa.array(["0206020A0", None])
            ),
            ["0206020A0"],
            [2],
        ),
        # chunks with their own dictionaries, one needing a trim
        (
            pa.chunked_array(
                [
                    pa.array(["0206020A0"]).dictionary_encode(),
                    pa.array([" 0205051R0 "]).dictionary_encode(),
                ]
            ),
            ["0206020A0", "0205051R0"],
            [],
        ),
        # int8 indices over large strings
        (
            pa.array(["0206020A0", "0205051R0"], pa.large_string())
            .dictionary_encode()
            .cast(pa.dictionary(pa.int8(), pa.large_string())),
            ["0206020A0", "0205051R0"],
            [],
        ),
        # codes given as integers (RxNorm)
        (pa.array([1191, 197361], pa.int64()), ["1191", "197361"], []),
    ],
)
def test_in_memory_drug_codes_of_any_encoding(drug_code, kept, rejected_rows):
    from riskstrat.sources._loader import RawTable, validate_tables

    patients = pa.table(
        {
            "patient_id": ["p1", "p2"],
            "birth_date": ["1950-01-01", "1950-01-01"],
            "sex": ["f", "m"],
        }
    )
    admissions = pa.table(
        {c: pa.array([], pa.string()) for c in ("patient_id", "admission_date")}
        | {"emergency": pa.array([], pa.string())}
    )
    rx = pa.table(
        {
            "patient_id": ["p1", "p2"],
            "issue_date": pa.array([dt.date(2021, 1, 1), dt.date(2021, 6, 1)]),
            "drug_code": drug_code,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        t = validate_tables(
            {
                "patients": RawTable(patients, "patients"),
                "admissions": RawTable(admissions, "admissions"),
                "prescriptions": RawTable(rx, "prescriptions"),
            }
        )
    got = t.prescriptions["drug_code"]
    assert got.type == CONTRACT["prescriptions"]["drug_code"].arrow_type
    assert got.to_pylist() == kept
    assert t.rejects["row"].to_pylist() == rejected_rows
    assert set(t.rejects["rule"].to_pylist()) <= {"missing_required"}
    _reconciles(t)
