"""Spells in canonical folders: contiguous or overlapping stays are one spell.

Literal admissions tables, checked by eye: each would count every row as an
admission if ``load_tables`` did not join stays after validation.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow.parquet as pq
import pytest

from _support.canonical import load_quietly, write_folder
from riskstrat.exceptions import DataQualityWarning
from riskstrat.features import build_features, make_labels
from riskstrat.sources import load_source, load_tables, open_tables
from riskstrat.sources._scan import ValidatedFolder
from riskstrat.sources._spells import join_admissions, spells_joined
from riskstrat.sources._tables import JOINED_STAYS_KEY

d = dt.date

PATIENTS = (
    "patient_id,birth_date,sex\n"
    "p1,1940-01-01,female\n"
    "p2,1945-06-01,male\n"
    "p3,1950-03-01,female\n"
)
HEAD = (
    "patient_id,admission_date,discharge_date,emergency,primary_diagnosis,"
    "secondary_diagnoses,admission_time,admission_method\n"
)


def _load(tmp_path, rows: str, **kwargs):
    folder = write_folder(
        tmp_path / "d", {"patients": PATIENTS, "admissions": HEAD + rows}
    )
    return load_quietly(folder, extract_date=d(2022, 1, 1), **kwargs)


def _spells(t):
    return [
        (r["patient_id"], r["admission_date"], r["discharge_date"])
        for r in t.admissions.to_pylist()
    ]


def _counts(t):
    (row,) = [r for r in t.counts.to_pylist() if r["table"] == "admissions"]
    return row["read"], row["accepted"], row["rejected"]


def test_a_transfer_on_the_discharge_day_is_one_spell_of_the_first_stay(tmp_path):
    t = _load(
        tmp_path,
        "p1,2021-01-01,2021-01-05,true,E86.0,I10X,18:30,21\n"
        "p1,2021-01-05,2021-01-10,false,J18.9,I10X|N39.0,09:00,81\n",
    )
    (spell,) = t.admissions.to_pylist()
    assert (spell["admission_date"], spell["discharge_date"]) == (
        d(2021, 1, 1),
        d(2021, 1, 10),
    )
    # The first stay's urgency, method, time and primary diagnosis; every code.
    assert spell["emergency"] is True and spell["admission_method"] == "21"
    assert spell["admission_time"] == dt.time(18, 30)
    assert spell["primary_diagnosis"] == "E860"
    assert spell["secondary_diagnoses"] == ["I10X", "J189", "N390"]
    assert _counts(t) == (2, 2, 0)  # counted in stays: read = accepted + rejected
    assert t.joined_stays == 1


def test_an_overlapping_stay_is_joined_and_the_latest_discharge_kept(tmp_path):
    t = _load(
        tmp_path,
        "p1,2021-03-01,2021-03-20,false,,,,\n"
        "p1,2021-03-04,2021-03-06,true,,,,\n",  # inside the first stay
    )
    assert _spells(t) == [("p1", d(2021, 3, 1), d(2021, 3, 20))]
    assert t.admissions["emergency"].to_pylist() == [False]


def test_a_chain_of_three_stays_is_one_spell_and_the_next_day_is_a_new_one(
    tmp_path,
):
    t = _load(
        tmp_path,
        "p1,2021-02-03,2021-02-06,true,,,,\n"  # rows out of date order
        "p1,2021-02-01,2021-02-03,true,,,,\n"
        "p1,2021-02-06,2021-02-08,true,,,,\n"
        "p1,2021-02-09,2021-02-09,true,,,,\n",  # the day after: a new spell
    )
    assert _spells(t) == [
        ("p1", d(2021, 2, 1), d(2021, 2, 8)),
        ("p1", d(2021, 2, 9), d(2021, 2, 9)),
    ]
    assert t.joined_stays == 2


def test_an_open_stay_holds_every_later_stay_and_says_so(tmp_path):
    folder = write_folder(
        tmp_path / "d",
        {
            "patients": PATIENTS,
            "admissions": HEAD
            + "p2,2021-05-01,,true,,,,\n"  # still in hospital
            + "p2,2021-06-01,2021-06-03,false,,,,\n"
            + "p2,2021-07-01,2021-07-02,false,,,,\n",
        },
    )
    with pytest.warns(DataQualityWarning, match="2 stays started after"):
        t = load_tables(folder, extract_date=d(2022, 1, 1))
    assert _spells(t) == [("p2", d(2021, 5, 1), None)]
    assert t.admissions["emergency"].to_pylist() == [True]


def test_two_people_interleaved_are_joined_each_on_their_own(tmp_path):
    t = _load(
        tmp_path,
        "p1,2021-01-01,2021-01-05,true,,,,\n"
        "p2,2021-01-03,2021-01-04,true,,,,\n"
        "p1,2021-01-05,2021-01-06,true,,,,\n"  # p1's transfer
        "p2,2021-01-10,2021-01-11,true,,,,\n"  # p2's stays do not touch
        "p3,2021-01-04,2021-01-05,true,,,,\n",  # p1's dates, another person
    )
    assert _spells(t) == [
        ("p1", d(2021, 1, 1), d(2021, 1, 6)),
        ("p2", d(2021, 1, 3), d(2021, 1, 4)),
        ("p2", d(2021, 1, 10), d(2021, 1, 11)),
        ("p3", d(2021, 1, 4), d(2021, 1, 5)),
    ]


def test_joining_off_keeps_every_stay_and_the_report_says_so(tmp_path):
    rows = "p1,2021-01-01,2021-01-05,true,,,,\np1,2021-01-05,2021-01-06,true,,,,\n"
    kept = _load(tmp_path / "a", rows, join_spells=False)
    assert kept.admissions.num_rows == 2 and kept.joined_stays is None
    folder = write_folder(
        tmp_path / "b", {"patients": PATIENTS, "admissions": HEAD + rows}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        off = load_source(folder, join_spells=False)
        on = load_source(folder)
    assert _rule_rows(off) == {"stay_not_joined": 2}
    assert _rule_rows(on) == {"first_stay_of_spell": 1, "joined_into_spell": 1}
    note = "admissions: 2 accepted stays joined into 1 spells (1 stays joined)"
    assert note in on.mapping.notes
    assert spells_joined(on.mapping) is True and spells_joined(off.mapping) is False
    with pytest.raises(TypeError, match="join_spells"):
        load_tables(folder, join_spells="no")


def _rule_rows(t):
    return {
        r["rule"]: r["rows"]
        for r in t.mapping.mapped.to_pylist()
        if r["aspect"] == "spell"
    }


def test_rejected_stays_are_not_joined_and_counts_reconcile(tmp_path):
    folder = write_folder(
        tmp_path / "d",
        {
            "patients": PATIENTS,
            "admissions": HEAD
            + "p1,2021-01-01,2021-01-05,true,,,,\n"
            + "p1,2021-01-05,2021-01-04,true,,,,\n"  # discharge before admission
            + "p1,2021-01-05,2021-01-07,true,,,,\n"
            + "p9,2021-01-05,2021-01-07,true,,,,\n",  # unknown patient
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        t = load_source(folder, extract_date=d(2022, 1, 1))
    assert _counts(t) == (4, 2, 2)
    assert _spells(t) == [("p1", d(2021, 1, 1), d(2021, 1, 7))]
    assert _rule_rows(t) == {
        "first_stay_of_spell": 1,
        "joined_into_spell": 1,
        "rejected_stay": 2,
    }
    assert sum(_rule_rows(t).values()) == 4  # read, rule by rule


def test_codes_of_a_stay_in_another_system_are_left_out_and_counted():
    import pyarrow as pa

    from riskstrat.sources import CONTRACT

    stays = pa.Table.from_pylist(
        [
            {
                "patient_id": "a",
                "admission_date": d(2021, 1, 1),
                "discharge_date": d(2021, 1, 3),
                "primary_diagnosis": "I21",
                "secondary_diagnoses": ["I10X", "E119"],
                "diagnosis_code_system": "icd10",
            },
            {
                "patient_id": "a",
                "admission_date": d(2021, 1, 2),
                "discharge_date": d(2021, 1, 3),
                "primary_diagnosis": "4280",
                "secondary_diagnoses": ["2500"],
                "diagnosis_code_system": "icd9",
            },
            {
                "patient_id": "a",
                "admission_date": d(2021, 1, 3),
                "discharge_date": d(2021, 1, 4),
                "primary_diagnosis": "I21",  # the spell's primary: not repeated
                "secondary_diagnoses": ["E119", "N390"],
                "diagnosis_code_system": "icd10",
            },
        ],
        schema=CONTRACT["admissions"].arrow_schema(),
    )
    out = join_admissions(stays)
    (spell,) = out.admissions.to_pylist()
    assert spell["secondary_diagnoses"] == ["I10X", "E119", "N390"]
    assert spell["diagnosis_code_system"] == "icd10"
    assert (out.joined, out.codes_other_system) == (2, 2)


def test_features_and_labels_count_the_spell_once_with_its_bed_days(tmp_path):
    rows = (
        "p1,2021-01-01,2021-01-05,true,,,,\n"
        "p1,2021-01-05,2021-01-10,true,,,,\n"  # a transfer: the same spell
        "p1,2021-06-01,2021-06-03,true,,,,\n"
        "p1,2021-06-03,2021-06-04,true,,,,\n"
    )
    joined = _load(tmp_path / "a", rows)
    apart = _load(tmp_path / "b", rows, join_spells=False)

    def p1(table):
        return next(r for r in table.to_pylist() if r["patient_id"] == "p1")

    x, y = (
        p1(build_features(joined, as_of=d(2021, 12, 1))),
        p1(build_features(apart, as_of=d(2021, 12, 1))),
    )
    assert (x["em_admissions_12m"], y["em_admissions_12m"]) == (2, 4)
    assert x["em_bed_days_12m"] == y["em_bed_days_12m"] == 12
    assert x["rule_two_admissions"] is True
    labels = p1(make_labels(joined, as_of=d(2020, 12, 31)))
    assert labels["emergency_admissions"] == 2
    assert labels["emergency_bed_days"] == 12


def test_a_validated_folder_holds_the_spells_and_records_the_joining(tmp_path):
    t = _load(
        tmp_path,
        "p1,2021-01-01,2021-01-05,true,,,,\np1,2021-01-05,2021-01-06,true,,,,\n",
    )
    folder = write_folder(
        tmp_path / "src",
        {
            "patients": PATIENTS,
            "admissions": HEAD
            + "p1,2021-01-01,2021-01-05,true,,,,\n"
            + "p1,2021-01-05,2021-01-06,true,,,,\n",
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        source = load_source(folder, extract_date=d(2022, 1, 1))
    out = source.to_parquet(tmp_path / "validated")
    assert pq.read_table(out / "admissions.parquet").num_rows == 1
    meta = pq.read_schema(out / "_counts.parquet").metadata
    assert meta[JOINED_STAYS_KEY.encode()] == b"1"
    opened = open_tables(out)  # scanned, not validated again
    assert isinstance(opened, ValidatedFolder)
    assert spells_joined(opened.mapping) is True
    assert _spells(opened.read()) == _spells(t)
    assert isinstance(open_tables(out, join_spells=True), ValidatedFolder)
    with pytest.warns(DataQualityWarning, match="cannot\\s+split them"):
        kept = open_tables(out, join_spells=False)
    assert isinstance(kept, ValidatedFolder)


def test_a_folder_validated_without_joining_is_joined_when_asked(tmp_path):
    folder = write_folder(
        tmp_path / "src",
        {
            "patients": PATIENTS,
            "admissions": HEAD
            + "p1,2021-01-01,2021-01-05,true,,,,\n"
            + "p1,2021-01-05,2021-01-06,true,,,,\n",
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        off = load_source(folder, extract_date=d(2022, 1, 1), join_spells=False)
        out = off.to_parquet(tmp_path / "validated")
        assert isinstance(open_tables(out), ValidatedFolder)  # as it was written
        again = open_tables(out, join_spells=True)
    assert not isinstance(again, ValidatedFolder)
    assert again.admissions.num_rows == 1


def test_joining_is_a_no_op_on_a_synthetic_population(cached_population):
    pop = cached_population(4_000, random_state=5)
    admissions = pop.tables.admissions
    out = join_admissions(admissions)
    assert out.joined == 0
    assert out.admissions is admissions  # not even copied


def test_the_command_line_joins_by_default_and_not_when_told(tmp_path):
    import re

    from typer.testing import CliRunner

    from riskstrat.cli import app

    def plain(output: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())

    folder = write_folder(
        tmp_path / "src",
        {
            "patients": PATIENTS,
            "admissions": HEAD
            + "p1,2021-01-01,2021-01-05,true,,,,\n"
            + "p1,2021-01-05,2021-01-06,true,,,,\n",
        },
    )
    runner = CliRunner()
    out = tmp_path / "validated"
    args = ["validate", "--data", str(folder), "--rejects", str(tmp_path / "r.csv")]
    r = runner.invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 accepted stays joined into 1 spells" in plain(r.output)
    r = runner.invoke(app, [*args, "--no-join-spells"])
    assert r.exit_code == 0, r.output
    assert "2 accepted stays kept as admissions (join_spells=False)" in plain(r.output)
    feats = tmp_path / "f.parquet"
    for data, flag, expected in ((out, [], 1), (folder, ["--no-join-spells"], 2)):
        r = runner.invoke(
            app,
            [
                *("features", "--data", str(data), "--as-of", "2021-06-01"),
                *("--out", str(feats), *flag),
            ],
        )
        assert r.exit_code == 0, r.output
        (row,) = [
            x for x in pq.read_table(feats).to_pylist() if x["patient_id"] == "p1"
        ]
        assert row["admissions_12m"] == expected
    r = runner.invoke(app, ["score", "--help"])
    assert "--no-join-spells" in plain(r.output)
