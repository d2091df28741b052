"""Literal bad inputs, one per case of issue 11: each is a reject or one clear error.

Every case here crashed with a traceback, or gave silently wrong data, on the code
before the guarded reading layer. A file-level fault is an ``UnreadableFileError``
(a ``SchemaError``) naming the file and never quoting its data; a bad row is a
reject with its row number, and counts reconcile.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import tempfile
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _support.canonical import ADMISSIONS, PATIENTS, VALID, load_quietly, write_folder
from riskstrat.exceptions import DataQualityWarning, SchemaError, UnreadableFileError
from riskstrat.sources import CONTRACT, load_tables
from riskstrat.sources._files import MAX_HEADER_BYTES, MAX_VALUE_CHARS

MINIMAL_PATIENTS = "patient_id,birth_date,sex\np1,1940-01-01,f\np2,1950-02-02,m\n"
MINIMAL_ADMISSIONS = "patient_id,admission_date,emergency\np1,2021-01-01,true\n"


def _reconciles(t) -> None:
    for r in t.counts.to_pylist():
        assert r["read"] == r["accepted"] + r["rejected"], r
        assert (
            r["rejected"]
            == t.rejects.filter(
                pa.compute.equal(t.rejects["table"], r["table"])
            ).num_rows
        )


def _folder(tmp_path, **files) -> pathlib.Path:
    content = {"patients": MINIMAL_PATIENTS, "admissions": MINIMAL_ADMISSIONS}
    content.update(files)
    return write_folder(tmp_path / "d", content)


def _no_patient_data(message: str) -> None:
    for secret in ("p1", "p2", "p3", "1940-01-01", "Zoë", "née"):
        assert secret not in message, message


# -- encodings -----------------------------------------------------------------


def test_latin1_file_is_named_with_the_option_to_give(tmp_path):
    text = MINIMAL_ADMISSIONS.replace("true", "true") + "p2,2021-02-02,true\n"
    latin = ("patient_id,birth_date,sex,locality\np1,1940-01-01,f,Zoë née\n").encode(
        "latin-1"
    )
    folder = _folder(tmp_path, patients=latin, admissions=text)
    with pytest.raises(UnreadableFileError) as e:
        load_tables(folder)
    msg = str(e.value)
    assert "patients.csv: line 2" in msg
    assert "looks like Latin-1: give --encoding latin-1" in msg
    _no_patient_data(msg)
    t = load_quietly(folder, encoding="latin-1")
    assert t.patients["locality"].to_pylist() == ["Zoë née"]


def test_windows_1252_bytes_are_named(tmp_path):
    folder = _folder(
        tmp_path,
        patients="patient_id,birth_date,sex,locality\np1,1940-01-01,f,O’Neill\n".encode(
            "cp1252"
        ),
    )
    with pytest.raises(
        UnreadableFileError, match="Windows-1252: give --encoding cp1252"
    ):
        load_tables(folder)


def test_utf16_file_is_named_and_readable_with_its_encoding(tmp_path):
    folder = _folder(
        tmp_path,
        patients=MINIMAL_PATIENTS.encode("utf-16"),
        admissions=MINIMAL_ADMISSIONS.encode("utf-16"),
    )
    with pytest.raises(UnreadableFileError, match=r"patients.csv.*UTF-16"):
        load_tables(folder)
    t = load_quietly(folder, encoding="utf-16")
    assert t.patients.num_rows == 2


def test_an_unknown_encoding_is_a_parameter_error(tmp_path):
    with pytest.raises(ValueError, match="`encoding` parameter"):
        load_tables(_folder(tmp_path), encoding="klingon")


def test_a_utf8_bom_is_still_fine(tmp_path):
    folder = _folder(tmp_path, patients=b"\xef\xbb\xbf" + MINIMAL_PATIENTS.encode())
    assert load_quietly(folder).patients.num_rows == 2


def test_old_mac_line_ends_are_read_as_rows(tmp_path):
    # A lone carriage return ends a row, in the header as in the data.
    admissions = MINIMAL_ADMISSIONS.replace("\n", "\r")
    t = load_quietly(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    assert t.admissions.num_rows == MINIMAL_ADMISSIONS.count("\n") - 1


def test_a_carriage_return_then_a_control_byte_is_one_clear_error(tmp_path):
    # Found by the fuzz test below: the header reader raised csv.Error.
    with pytest.raises(SchemaError, match=r"admissions\.csv.*lacks required"):
        load_quietly(_folder(tmp_path, admissions=b"\r\x01"))


# -- malformed rows --------------------------------------------------------------


def test_ragged_rows_are_rejects_and_later_rows_keep_their_numbers(tmp_path):
    admissions = (
        "patient_id,admission_date,emergency\n"
        "p1,2021-01-01,true\n"
        "p1,2021-02-01\n"  # too few fields: row 2
        "p1,2021-03-01,true,extra\n"  # too many: row 3
        "p1,2021-04-01,maybe\n"  # row 4: unparseable, numbered after the gap
    )
    with pytest.warns(DataQualityWarning, match="3 rows rejected"):
        t = load_tables(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    rej = sorted(t.rejects.to_pylist(), key=lambda r: r["row"])
    assert [(r["row"], r["rule"]) for r in rej] == [
        (2, "malformed_row"),
        (3, "malformed_row"),
        (4, "unparseable"),
    ]
    assert rej[0]["patient_id"] == "p1"
    assert "has 2 fields where the header has 3" in rej[0]["message"]
    assert t.admissions["admission_date"].to_pylist() == [dt.date(2021, 1, 1)]


def test_a_whitespace_only_line_is_a_reject(tmp_path):
    admissions = MINIMAL_ADMISSIONS + "   \n" + "p2,2021-05-05,false\n"
    t = load_quietly(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    (r,) = t.rejects.to_pylist()
    assert (r["row"], r["rule"]) == (2, "malformed_row")
    assert "whitespace-only" in r["message"]
    assert t.admissions.num_rows == 2


def test_a_row_of_200_000_fields_is_one_reject_with_a_short_value(tmp_path):
    admissions = MINIMAL_ADMISSIONS + "p1," * 200_000 + "\n"
    t = load_quietly(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    (r,) = t.rejects.to_pylist()
    assert r["rule"] == "malformed_row"
    assert "200,001 fields" in r["message"]
    assert len(r["value"]) <= MAX_VALUE_CHARS + 1


def test_a_plus_sign_in_an_integer_column_is_read(tmp_path):
    patients = (
        "patient_id,birth_date,sex,deprivation_decile\n"
        "p1,1940-01-01,f,+4\np2,1950-02-02,m,+\n"
    )
    t = load_quietly(_folder(tmp_path, patients=patients))
    _reconciles(t)
    assert t.patients["deprivation_decile"].to_pylist() == [4]
    (r,) = t.rejects.to_pylist()
    assert (r["row"], r["column"], r["rule"]) == (
        2,
        "deprivation_decile",
        "unparseable",
    )


def test_a_parquet_integer_beyond_int32_is_a_reject(tmp_path):
    folder = _folder(tmp_path)
    (folder / "patients.csv").unlink()
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1", "p2"],
                "birth_date": [dt.date(1940, 1, 1), dt.date(1950, 1, 1)],
                "sex": ["f", "m"],
                "deprivation_decile": pa.array([3, 2**40], pa.int64()),
            }
        ),
        folder / "patients.parquet",
    )
    t = load_quietly(folder)
    _reconciles(t)
    assert [(r["row"], r["rule"]) for r in t.rejects.to_pylist()] == [
        (2, "unparseable")
    ]


# -- files that are not what they say ------------------------------------------


def test_csv_bytes_named_parquet(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").rename(folder / "admissions.parquet")
    with pytest.raises(
        UnreadableFileError, match=r"admissions.parquet is not a Parquet"
    ):
        load_tables(folder)


def test_a_truncated_parquet_file(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    path = folder / "admissions.parquet"
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1"] * 50,
                "admission_date": ["2021-01-01"] * 50,
                "emergency": [True] * 50,
            }
        ),
        path,
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFileError, match=r"admissions.parquet.*truncated"):
        load_tables(folder)


def test_a_damaged_parquet_footer(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    path = folder / "admissions.parquet"
    pq.write_table(pa.table({"patient_id": ["p1"]}), path)
    data = bytearray(path.read_bytes())
    data[-8:-4] = b"\xff\xff\xff\x7f"  # footer length far beyond the file
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFileError, match=r"admissions.parquet"):
        load_tables(folder)


def test_a_struct_column_where_a_date_is_expected(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1"],
                "admission_date": pa.array([{"y": 2021, "m": 1}]),
                "emergency": [True],
            }
        ),
        folder / "admissions.parquet",
    )
    with pytest.raises(
        UnreadableFileError, match=r"column admission_date has type struct"
    ):
        load_tables(folder)


def test_a_struct_column_outside_the_contract_is_ignored(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1"],
                "admission_date": [dt.date(2021, 1, 1)],
                "emergency": [True],
                "extra": pa.array([{"a": 1}]),
            }
        ),
        folder / "admissions.parquet",
    )
    assert load_quietly(folder).admissions.num_rows == 1


def test_binary_text_that_is_not_utf8_in_parquet(tmp_path):
    folder = _folder(tmp_path)
    (folder / "patients.csv").unlink()
    pq.write_table(
        pa.table(
            {
                "patient_id": pa.array([b"p1", b"p\xe9"], pa.binary()),
                "birth_date": [dt.date(1940, 1, 1)] * 2,
                "sex": ["f", "m"],
            }
        ),
        folder / "patients.parquet",
    )
    with pytest.raises(UnreadableFileError, match="patient_id holds bytes"):
        load_tables(folder)


def test_a_folder_where_a_file_should_be(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    (folder / "admissions.csv").mkdir()
    with pytest.raises(UnreadableFileError, match=r"admissions.csv is a folder"):
        load_tables(folder)


def test_a_named_pipe_where_a_file_should_be(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    os.mkfifo(folder / "admissions.csv")
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        load_tables(folder)


def test_an_unreadable_file(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    real_open = pathlib.Path.open

    def denied(self, *args, **kwargs):
        if self.name == "admissions.csv":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", denied)
    with pytest.raises(UnreadableFileError, match=r"admissions.csv: cannot be opened"):
        load_tables(folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_by_its_mode(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").chmod(0)
    with pytest.raises(UnreadableFileError, match=r"admissions.csv"):
        load_tables(folder)


def test_a_sparse_2gb_file_is_refused_after_a_bounded_read(tmp_path):
    folder = _folder(tmp_path)
    path = folder / "admissions.csv"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: no disk used, all NUL bytes
    with pytest.raises(UnreadableFileError, match=r"admissions.csv"):
        load_tables(folder)


def test_a_header_with_no_end_is_refused_without_reading_the_file(tmp_path):
    folder = _folder(tmp_path)
    path = folder / "admissions.csv"
    path.write_text("patient_id," * (MAX_HEADER_BYTES // 8))
    with pytest.raises(UnreadableFileError, match="no end of the header line"):
        load_tables(folder)


def test_a_header_then_a_sparse_tail_is_one_clear_error(tmp_path):
    folder = _folder(tmp_path)
    path = folder / "admissions.csv"
    with path.open("wb") as fh:
        fh.write(MINIMAL_ADMISSIONS.encode())
        fh.truncate(64 * 1024**2)  # a header and one row, then 64 MiB of NULs
    with pytest.raises(UnreadableFileError, match=r"admissions.csv: a row is longer"):
        load_tables(folder)


# -- nothing silently wrong ------------------------------------------------------


def test_zoned_timestamps_are_dated_in_their_own_zone(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    # 00:30 on 1 June in London is 23:30 on 31 May UTC.
    stamp = pa.array(
        [dt.datetime(2021, 5, 31, 23, 30)], pa.timestamp("us", tz="UTC")
    ).cast(pa.timestamp("us", tz="Europe/London"))
    pq.write_table(
        pa.table({"patient_id": ["p1"], "admission_date": stamp, "emergency": [True]}),
        folder / "admissions.parquet",
    )
    t = load_quietly(folder)
    assert t.admissions["admission_date"].to_pylist() == [dt.date(2021, 6, 1)]


def test_timestamps_with_fractions_of_a_second_are_dated_by_their_day(tmp_path):
    # Found by the fuzz test below: a cast to whole seconds refused the
    # milliseconds ("would lose data") with a traceback. Before 1970 too.
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    stamp = pa.array(
        [
            dt.datetime(2021, 1, 10, 23, 29, 59, 808000),
            dt.datetime(1969, 12, 31, 23, 59, 59, 500000),
        ],
        pa.timestamp("ms"),
    )
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1", "p2"],
                "admission_date": stamp,
                "emergency": [True, True],
            }
        ),
        folder / "admissions.parquet",
    )
    t = load_quietly(folder)
    assert sorted(t.admissions["admission_date"].to_pylist()) == [
        dt.date(1969, 12, 31),
        dt.date(2021, 1, 10),
    ]


def test_exact_duplicate_spells_are_rejected_keeping_the_first(tmp_path):
    admissions = (
        "patient_id,admission_date,discharge_date,emergency\n"
        + "p1,2021-01-01,2021-01-03,true\n" * 6
        + "p1,2021-01-01,2021-01-04,true\n"
    )
    with pytest.warns(DataQualityWarning, match="5 rows rejected \\(duplicate\\)"):
        t = load_tables(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    assert [r["row"] for r in t.rejects.to_pylist()] == [2, 3, 4, 5, 6]
    assert {r["rule"] for r in t.rejects.to_pylist()} == {"duplicate"}
    # The two stays left overlap: one spell, to the later discharge.
    assert t.admissions.num_rows == 1
    assert t.admissions["discharge_date"].to_pylist() == [dt.date(2021, 1, 4)]
    from riskstrat.features import build_features

    f = build_features(t, as_of=dt.date(2021, 6, 1)).to_pylist()
    assert {r["patient_id"]: r["em_admissions_12m"] for r in f}["p1"] == 1
    kept = load_quietly(
        _folder(tmp_path / "b", admissions=admissions), join_spells=False
    )
    assert kept.admissions.num_rows == 2


def test_repeated_prescription_issues_are_kept(tmp_path):
    rx = "patient_id,issue_date,drug_code\n" + "p1,2021-01-01,0205051R0\n" * 2
    t = load_quietly(_folder(tmp_path, prescriptions=rx))
    assert t.prescriptions.num_rows == 2 and t.rejects.num_rows == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_out_of_range_dates_are_refused_in_csv(tmp_path, day):
    admissions = (
        "patient_id,admission_date,discharge_date,emergency\n"
        f"p1,2021-01-01,{day},true\n"
    )
    t = load_quietly(_folder(tmp_path, admissions=admissions))
    _reconciles(t)
    (r,) = t.rejects.to_pylist()
    assert (r["column"], r["rule"], r["value"]) == (
        "discharge_date",
        "impossible_date",
        day,
    )


def test_out_of_range_dates_are_refused_in_parquet(tmp_path):
    folder = _folder(tmp_path)
    (folder / "admissions.csv").unlink()
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1", "p1", "p1"],
                "admission_date": [
                    dt.date(2021, 1, 1),
                    dt.date(9999, 12, 31),
                    dt.date(1, 1, 1),
                ],
                "emergency": [True, True, True],
            }
        ),
        folder / "admissions.parquet",
    )
    t = load_quietly(folder)
    _reconciles(t)
    assert [r["rule"] for r in t.rejects.to_pylist()] == ["impossible_date"] * 2
    from riskstrat.features import build_features

    assert build_features(t, as_of=dt.date(2022, 1, 1)).num_rows == 2


def test_a_year_of_birth_source_keeps_an_infants_early_prescriptions(tmp_path):
    patients = "patient_id,year_of_birth,sex\np1,2023,f\np2,1950,m\n"
    rx = (
        "patient_id,issue_date,drug_code\n"
        "p1,2023-02-01,0205051R0\n"  # before 1 July of the birth year: fine
        "p1,2022-12-31,0205051R0\n"  # the year before birth: impossible
    )
    admissions = "patient_id,admission_date,emergency\np1,2023-01-15,true\n"
    t = load_quietly(
        _folder(tmp_path, patients=patients, prescriptions=rx, admissions=admissions),
        extract_date=dt.date(2023, 3, 1),
    )
    _reconciles(t)
    assert t.patients.num_rows == 2  # born "1 July 2023", after the extract: kept
    assert t.admissions.num_rows == 1
    assert t.prescriptions["issue_date"].to_pylist() == [dt.date(2023, 2, 1)]
    (r,) = t.rejects.to_pylist()
    assert (r["table"], r["row"], r["rule"]) == ("prescriptions", 2, "impossible_date")


def test_the_warning_names_row_and_rule_but_no_patient_data(tmp_path):
    admissions = MINIMAL_ADMISSIONS + "p1,2021-13-01,true\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_tables(_folder(tmp_path, admissions=admissions))
    (w,) = [w for w in caught if issubclass(w.category, DataQualityWarning)]
    text = str(w.message)
    assert "row 2, column admission_date (unparseable)" in text
    assert "p1" not in text and "2021-13-01" not in text


def test_the_full_valid_fixture_still_loads_without_rejects(tmp_path):
    t = load_quietly(write_folder(tmp_path / "v", VALID))
    assert t.rejects.num_rows == 0
    assert set(CONTRACT) == {r["table"] for r in t.counts.to_pylist()}
    assert PATIENTS and ADMISSIONS  # the literal fixtures this module builds on


def test_unreadable_file_error_is_a_schema_error():
    assert issubclass(UnreadableFileError, SchemaError)


def test_a_file_in_another_encoding_than_the_one_given(tmp_path):
    folder = _folder(tmp_path)  # UTF-8 files, odd byte counts
    with pytest.raises(UnreadableFileError, match="not valid utf-16"):
        load_tables(folder, encoding="utf-16")


# -- the command line -------------------------------------------------------------


def _cli(*args):
    from typer.testing import CliRunner

    from riskstrat.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_hook_probe_ragged_patients_and_a_non_utf8_admissions_file(tmp_path):
    folder = write_folder(
        tmp_path / "probe",
        {
            "patients": "patient_id,birth_date,sex\np1,1940-01-01,f\np2,1950-01-01\n"
            "p3,1960-01-01,m\n",
            "admissions": b"patient_id,admission_date,emergency\np1,2021-01-01,"
            b"tr\xe9s\n",
        },
    )
    r = _cli("validate", folder, "--rejects", tmp_path / "rejects.csv")
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    assert "admissions.csv" in r.output and "--encoding latin-1" in r.output
    _no_patient_data(r.output)
    r = _cli(
        "validate", folder, "--rejects", tmp_path / "r.csv", "--encoding", "latin-1"
    )
    assert r.exit_code == 0, r.output
    assert "malformed_row" in r.output


def test_rejects_found_is_1_and_could_not_run_is_2(tmp_path):
    admissions = MINIMAL_ADMISSIONS + "p1,2021-13-01,true\n"
    folder = _folder(tmp_path, admissions=admissions)
    rej = tmp_path / "rejects.csv"
    assert _cli("validate", folder, "--rejects", rej).exit_code == 0
    assert (
        _cli("validate", folder, "--rejects", rej, "--fail-on-rejects").exit_code == 1
    )
    (folder / "admissions.csv").write_bytes(b"PAR1 not really")
    (folder / "admissions.csv").rename(folder / "admissions.parquet")
    r = _cli("validate", folder, "--rejects", rej, "--fail-on-rejects")
    assert r.exit_code == 2, r.output
    assert _cli("validate", folder, "--encoding", "klingon").exit_code == 2


def test_validate_out_refuses_a_non_empty_folder_and_overwrite_clears_it(tmp_path):
    first = write_folder(tmp_path / "first", VALID)
    out = tmp_path / "validated"
    rej = tmp_path / "rejects.csv"
    assert _cli("validate", first, "--rejects", rej, "--out", out).exit_code == 0
    assert (out / "residences.parquet").exists()
    second = _folder(tmp_path)  # no residences, nominations, enrolments
    r = _cli("validate", second, "--rejects", rej, "--out", out)
    assert r.exit_code == 2 and "not empty" in r.output, r.output
    r = _cli("validate", second, "--rejects", rej, "--out", out, "--overwrite")
    assert r.exit_code == 0, r.output
    tables = sorted(p.name for p in out.iterdir() if not p.name.startswith("_m"))
    assert tables == [  # the first population's residences are gone
        "_counts.parquet",
        "_rejects.parquet",
        "admissions.parquet",
        "patients.parquet",
    ]
    assert {p.name for p in out.glob("_mapping_*.parquet")} == {
        "_mapping_features.parquet",
        "_mapping_mapped.parquet",
        "_mapping_tables.parquet",
        "_mapping_unmapped.parquet",
    }  # the mapping report is kept with the tables
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".validated")]
    t = load_quietly(out)
    assert t.absent == (
        "prescriptions",
        "residences",
        "nominations",
        "enrolments",
        "screenings",
    )


def test_a_truncated_truth_json_is_a_clear_error(tmp_path):
    from riskstrat.synth import Truth, make_population

    pop = make_population(30, random_state=0)
    text = pop.truth.to_json()
    assert Truth.from_json(text) == pop.truth
    with pytest.raises(ValueError, match="truncated or damaged"):
        Truth.from_json(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not a riskstrat truth file"):
        Truth.from_json('{"start": "2020-01-01"}')
    folder = pop.write(tmp_path / "pop")
    (folder / "truth.json").write_text(text[:40])
    r = _cli("train", "--data", folder, "--as-of", "2021-04-01")
    assert r.exit_code == 2, r.output
    assert "truth.json" in r.output and "Traceback" not in r.output


# -- random bytes and random mutations ----------------------------------------------


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


BASES = {
    "patients.csv": PATIENTS.encode(),
    "admissions.csv": ADMISSIONS.encode(),
    "patients.parquet": _parquet_bytes(
        pa.table(
            {
                "patient_id": ["p1", "p2", "p3"],
                "birth_date": [dt.date(1940, 5, 1), dt.date(1950, 6, 15), None],
                "sex": ["female", "male", "f"],
                "deprivation_decile": pa.array([3, None, 11], pa.int64()),
            }
        )
    ),
    "admissions.parquet": _parquet_bytes(
        pa.table(
            {
                "patient_id": ["p1", "p1", "p2"],
                "admission_date": pa.array(
                    [dt.datetime(2021, 1, 10, 23, 30)] * 3,
                    pa.timestamp("ms", tz="Europe/London"),
                ),
                "emergency": [True, None, False],
                "secondary_diagnoses": [["I10X"], None, ["j44.9", ""]],
            }
        )
    ),
}


@st.composite
def _mutation(draw, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=8),
                    st.sampled_from([b",", b"\n", b'"', b"\r\n", b"\x00", b"+", b" "]),
                )
            )
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        else:
            data[i:i] = data[i : i + draw(st.integers(1, 40))]
    return bytes(data)


@st.composite
def _hostile_file(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(BASES)))
    content = draw(st.one_of(st.binary(max_size=200), _mutation(BASES[name])))
    return name, content


@given(case=_hostile_file())
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_random_bytes_and_mutations_give_rejects_or_one_clear_error(case):
    name, content = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(
            pathlib.Path(tmp), {"patients": PATIENTS, "admissions": ADMISSIONS}
        )
        (folder / f"{name.split('.')[0]}.csv").unlink()
        (folder / name).write_bytes(content)
        try:
            t = load_quietly(folder)
        except SchemaError as exc:  # UnreadableFileError is one
            assert str(exc).strip()
            assert "Traceback" not in str(exc)
            return
        _reconciles(t)


# -- the adapters' reader (OMOP, Synthea) -------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"person_id,year_of_birth\n1,1940\n2,19\xe950\n", "looks like Latin-1"),
        (b"person_id,year_of_birth\n1,1940\n2\n", r"1 row\(s\) do not have"),
        (b"", "is empty"),
    ],
    ids=["latin-1", "ragged", "empty"],
)
def test_the_adapters_reader_refuses_a_bad_csv_with_one_clear_error(
    tmp_path, content, match
):
    from riskstrat.sources._reading import _read_file

    path = tmp_path / "person.csv"
    path.write_bytes(content)
    with pytest.raises(SchemaError, match=match) as e:
        _read_file(path)
    _no_patient_data(str(e.value))


def test_the_adapters_reader_refuses_csv_named_parquet(tmp_path):
    from riskstrat.sources._reading import _read_file

    path = tmp_path / "person.parquet"
    path.write_text("person_id\n1\n")
    with pytest.raises(UnreadableFileError, match="not a Parquet file"):
        _read_file(path)
