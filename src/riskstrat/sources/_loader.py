"""``load_tables``: read canonical files, validate them at the edge, keep rejects.

Rules, in the priority order used to name the one rule recorded per rejected row:

0. ``malformed_row`` - a CSV row that cannot be split into the header's fields
   (too many or too few; a whitespace-only line)
1. ``missing_required`` - empty value in a column that must not be empty
2. ``unparseable`` - a date, boolean, integer or time that cannot be read
   (including impossible calendar dates such as 2023-02-30)
3. ``not_allowed`` - a value outside the column's allowed values
4. ``out_of_range`` - an integer outside its bounds (deprivation decile 1-10)
5. ``impossible_date`` - before 1900-01-01 or after 2199-12-31; a birth date
   after the extract date; an event dated before the patient's birth (by year
   when the source gives only a year of birth)
6. ``end_before_start`` - discharge before admission, end before start or
   enrolment, deregistration before registration, death before birth
7. ``after_extract_date`` - any date later than ``extract_date``
8. ``duplicate_patient_id`` - every row of a patient id listed more than once
9. ``unknown_patient`` - an event whose patient is not among accepted patients
10. ``after_death`` - an event dated after the patient's death (same day is fine)
11. ``duplicate`` - an event row identical, field for field, to an earlier row of
    the same table (the first is kept)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat._utils import warn_caller
from riskstrat.exceptions import DataQualityWarning, SchemaError
from riskstrat.sources._admission_method import apply_admission_method
from riskstrat.sources._code_shapes import (
    DRUG_SHAPES,
    infer_system,
    wrong_diagnosis_rows,
    wrong_drug_rows,
)
from riskstrat.sources._date_checks import DateCheck, check_dates, warn_dates
from riskstrat.sources._files import MalformedRow, check_encoding, check_readable
from riskstrat.sources._parse import (
    as_text,
    check_column_types,
    check_required_columns,
    parse_column,
    read_raw,
)
from riskstrat.sources._schema import (
    CONTRACT,
    DRUG_CODE_SYSTEMS,
    EARLIEST_DATE,
    LATEST_DATE,
    REJECTS_SCHEMA,
    Column,
    TableSchema,
)
from riskstrat.sources._spells import JoinedSpells, join_admissions
from riskstrat.sources._tables import COUNTS_SCHEMA, TABLE_NAMES, Tables

__all__ = [
    "RULES",
    "CanonicalLoad",
    "RawTable",
    "check_extract_date",
    "load_canonical",
    "load_tables",
    "validate_tables",
]

logger = logging.getLogger(__name__)

RULES: tuple[str, ...] = (
    "malformed_row",
    "missing_required",
    "unparseable",
    "not_allowed",
    "out_of_range",
    "impossible_date",
    "end_before_start",
    "after_extract_date",
    "duplicate_patient_id",
    "unknown_patient",
    "after_death",
    "duplicate",
)

_PAIRS = {  # (start, end) columns checked by end_before_start
    "patients": [
        ("registration_date", "deregistration_date"),
        ("birth_date", "death_date"),
    ],
    "admissions": [("admission_date", "discharge_date")],
    "residences": [("start_date", "end_date")],
    "enrolments": [("enrol_date", "end_date")],
}


#: Event tables whose exact duplicate rows are rejected (``duplicate``). A spell,
#: a residence period, a nomination or an enrolment cannot happen twice
#: identically; the same drug can be issued twice on one day, and the contract
#: has no quantity to tell two issues from a copied row, so prescriptions keep
#: them.
_DEDUPLICATED = ("admissions", "residences", "nominations", "enrolments")

#: Rows of an event table validated at a time.
_CHUNK_ROWS = 4_000_000


class _Verdict:
    """First failing rule, column and raw value of each row of one table."""

    def __init__(self, n: int, raw: pa.Table) -> None:
        # Small-int codes (0 = accepted) keep this cheap for tens of millions of rows.
        self.code = np.zeros(n, dtype=np.int8)
        self.col = np.zeros(n, dtype=np.int16)
        self.columns: list[str | None] = [None]
        self.raw = raw

    def flag(self, mask: np.ndarray, rule: str, column: str | None) -> None:
        if not mask.any():
            return
        new = mask & (self.code == 0)
        if column not in self.columns:
            self.columns.append(column)
        self.code[new] = RULES.index(rule) + 1
        self.col[new] = self.columns.index(column)

    @property
    def rejected(self) -> np.ndarray:
        return self.code != 0

    @property
    def rule(self) -> np.ndarray:
        names = np.array([None, *RULES], dtype=object)
        return names[self.code]

    @property
    def column(self) -> np.ndarray:
        return np.array(self.columns, dtype=object)[self.col]


def _find_file(folder: Path, name: str) -> Path | None:
    found = [
        p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.exists()
    ]
    if len(found) > 1:
        raise SchemaError(
            f"{folder}: both {found[0].name} and {found[1].name} exist; keep one so "
            "it is clear which is the source."
        )
    return found[0] if found else None


def _check_columns(schema: TableSchema, raw: pa.Table, file: str) -> None:
    found = list(raw.column_names)
    required = list(schema.required_columns)
    if (
        schema.name == "patients"
        and "birth_date" not in found
        and "year_of_birth" in found
    ):
        required.remove("birth_date")
    if schema.name == "admissions" and "admission_method" not in found:
        required.insert(2, "emergency")  # the method, when given, decides it
    check_required_columns(file, schema.name, required, found)


def _latest_admission_date(raw: RawTable) -> dt.date | None:
    """The latest readable admission or discharge date (1900 or later)."""
    schema = CONTRACT["admissions"]
    latest = None
    for name in ("admission_date", "discharge_date"):
        if name not in raw.table.column_names:
            continue
        dates, _ = parse_column(raw.table[name], schema[name])
        dates = pc.filter(
            dates, pc.greater_equal(dates, pa.scalar(EARLIEST_DATE, pa.date32()))
        )
        top = pc.max(dates).as_py()
        if top is not None and (latest is None or top > latest):
            latest = top
    return latest


def _inferred_system(codes, shapes, file: str, column: str) -> str:
    """The one system all ``codes`` fit, or a SchemaError naming the file."""
    system = infer_system(codes, shapes)
    if system is None:
        raise SchemaError(
            f"{file}: no drug_code_system column, and the {column} codes do not "
            f"all have the shape of one system ({', '.join(shapes)}); add a "
            "drug_code_system column (or pass drug_code_system=...) rather than "
            "have riskstrat guess."
        )
    return system


def _mask(arr) -> np.ndarray:
    return np.asarray(
        pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool
    )


def _validate_table(
    schema: TableSchema,
    raw: pa.Table,
    file: str,
    *,
    extract_date: dt.date | None,
    drug_code_system: str | None,
    patients: pa.Table | None,
    duplicate: np.ndarray | None = None,
    birth_by_year: bool = False,
    birth_limit: dt.date | None = None,
) -> tuple[pa.Table, _Verdict]:
    n = raw.num_rows
    v = _Verdict(n, raw)
    cols: dict[str, pa.Array] = {}
    bad: dict[str, np.ndarray] = {}
    undeclared = False
    for col in schema.columns:
        if col.name in raw.column_names:
            cols[col.name], bad[col.name] = parse_column(raw[col.name], col)
        elif schema.name == "patients" and col.name == "birth_date":
            cols[col.name], bad[col.name] = _year_of_birth(raw["year_of_birth"])
        elif schema.name == "prescriptions" and col.name == "drug_code_system":
            system = drug_code_system
            if system is None and n:
                system = _inferred_system(
                    cols["drug_code"], DRUG_SHAPES, file, "drug_code"
                )
            cols[col.name] = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)),
                pa.array([system], pa.string()),
            )
            bad[col.name] = np.zeros(n, dtype=bool)
        elif schema.name == "admissions" and col.name == "diagnosis_code_system":
            # The contract's diagnoses were ICD-10 before the column existed:
            # undeclared codes are read as ICD-10, and a code that does not have
            # the ICD-10 shape sends its row to rejects (never read as ICD-10).
            cols[col.name] = pa.array(["icd10"] * n, pa.string())
            bad[col.name] = np.zeros(n, dtype=bool)
            undeclared = True
        else:
            cols[col.name] = pa.nulls(n, type=col.arrow_type)
            bad[col.name] = np.zeros(n, dtype=bool)
    # 1. missing_required  2. unparseable  3. not_allowed  4. out_of_range
    for col in schema.columns:
        if not col.nullable:
            v.flag(
                _mask(pc.is_null(cols[col.name])) & ~bad[col.name],
                "missing_required",
                col.name,
            )
    for col in schema.columns:
        v.flag(bad[col.name], "unparseable", col.name)
    for col in schema.columns:
        if col.allowed is not None:
            arr = cols[col.name]
            v.flag(
                _mask(
                    pc.and_(
                        pc.is_valid(arr),
                        pc.invert(pc.is_in(arr, value_set=pa.array(col.allowed))),
                    )
                ),
                "not_allowed",
                col.name,
            )
    if schema.name == "admissions":
        bad_primary, bad_secondary = wrong_diagnosis_rows(
            cols["primary_diagnosis"],
            cols["secondary_diagnoses"],
            cols["diagnosis_code_system"],
        )
        if undeclared and (bad_primary.any() or bad_secondary.any()):
            logger.warning(
                "%s: no diagnosis_code_system column; diagnoses are read as ICD-10 "
                "and %d rows whose codes do not have the ICD-10 shape are "
                "rejected: declare the system if they are not ICD-10",
                file,
                int((bad_primary | bad_secondary).sum()),
            )
        v.flag(bad_primary, "unparseable", "primary_diagnosis")
        v.flag(bad_secondary, "unparseable", "secondary_diagnoses")
    if schema.name == "prescriptions":
        v.flag(
            wrong_drug_rows(cols["drug_code"], cols["drug_code_system"]),
            "unparseable",
            "drug_code",
        )
    if schema.name == "admissions" and "admission_method" in raw.column_names:
        cols["emergency"], bad_method = apply_admission_method(
            cols["admission_method"], cols["emergency"]
        )
        v.flag(_mask(bad_method), "not_allowed", "admission_method")
    for col in schema.columns:
        if col.dtype == "int" and (
            col.min_value is not None or col.max_value is not None
        ):
            arr = cols[col.name]
            out = pc.or_(pc.less(arr, col.min_value), pc.greater(arr, col.max_value))
            v.flag(_mask(out), "out_of_range", col.name)
    # 5. impossible_date
    date_cols = [c.name for c in schema.columns if c.dtype == "date"]
    for name in date_cols:
        v.flag(
            _mask(
                pc.or_(
                    pc.less(cols[name], pa.scalar(EARLIEST_DATE, pa.date32())),
                    pc.greater(cols[name], pa.scalar(LATEST_DATE, pa.date32())),
                )
            ),
            "impossible_date",
            name,
        )
    birth_limit = extract_date or birth_limit
    if schema.name == "patients" and birth_limit is not None:
        birth = cols["birth_date"]
        limit = pa.scalar(birth_limit, pa.date32())
        if birth_by_year:  # 1 July of the limit's own year is not "after" it
            birth, limit = pc.year(birth), pa.scalar(birth_limit.year, pa.int64())
        v.flag(_mask(pc.greater(birth, limit)), "impossible_date", "birth_date")
    idx = None
    if patients is not None:
        idx = pc.index_in(cols["patient_id"], value_set=patients["patient_id"])
        birth = pc.take(patients["birth_date"], idx)
        if schema.event_date is not None:
            event = cols[schema.event_date]
            if birth_by_year:  # only the year is known: compare years
                event, birth = pc.year(event), pc.year(birth)
            v.flag(
                _mask(pc.less(event, birth)),
                "impossible_date",
                schema.event_date,
            )
    # 6. end_before_start
    for start, end in _PAIRS.get(schema.name, []):
        first, last = cols[start], cols[end]
        if birth_by_year and start == "birth_date":
            first, last = pc.year(first), pc.year(last)
        v.flag(_mask(pc.less(last, first)), "end_before_start", end)
    # 7. after_extract_date
    if extract_date is not None:
        limit = pa.scalar(extract_date, pa.date32())
        for name in date_cols:
            if birth_by_year and name == "birth_date":
                year = pa.scalar(extract_date.year, pa.int64())
                late = pc.greater(pc.year(cols[name]), year)
            else:
                late = pc.greater(cols[name], limit)
            v.flag(_mask(late), "after_extract_date", name)
    # 8. duplicate_patient_id
    if schema.name == "patients":
        counts = pc.value_counts(cols["patient_id"])
        dup_ids = pc.filter(
            counts.field("values"), pc.greater(counts.field("counts"), 1)
        )
        v.flag(
            _mask(pc.is_in(cols["patient_id"], value_set=dup_ids)),
            "duplicate_patient_id",
            "patient_id",
        )
    # 9. unknown_patient  10. after_death
    if patients is not None and idx is not None:
        v.flag(_mask(pc.is_null(idx)), "unknown_patient", "patient_id")
        if schema.event_date is not None:
            death = pc.take(patients["death_date"], idx)
            v.flag(
                _mask(pc.greater(cols[schema.event_date], death)),
                "after_death",
                schema.event_date,
            )
    # 11. duplicate
    if duplicate is not None:
        v.flag(duplicate, "duplicate", None)
    rejected = v.rejected
    if rejected.any():
        keep = pa.array(~rejected)
        cols = {c.name: pc.filter(cols[c.name], keep) for c in schema.columns}
    accepted = pa.table(  # no copy when every row was accepted
        {c.name: cols[c.name] for c in schema.columns},
        schema=schema.arrow_schema(),
    )
    return accepted, v


_YEAR = Column(name="year_of_birth", dtype="int", min_value=1850, max_value=2200)


def _year_of_birth(raw) -> tuple[pa.Array, np.ndarray]:
    """Birth date from a year of birth: 1 July of that year (mid-year)."""
    year, bad = parse_column(raw, _YEAR)
    bad = bad | _mask(pc.or_(pc.less(year, 1000), pc.greater(year, 9999)))
    year = pc.if_else(pa.array(bad), None, year)
    text = pc.binary_join_element_wise(year.cast(pa.string()), "07-01", "-")
    birth = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    return birth.cast(pa.date32()), bad


def _rejects(
    name: str, file: str, v: _Verdict, source_rows: np.ndarray | None = None
) -> pa.Table:
    rows = np.flatnonzero(v.rejected)
    if rows.size == 0:
        return REJECTS_SCHEMA.empty_table()
    numbers = rows + 1 if source_rows is None else np.asarray(source_rows)[rows]
    take = pa.array(rows)
    pid = (
        as_text(v.raw["patient_id"].take(take)).to_pylist()
        if "patient_id" in v.raw.column_names
        else [None] * rows.size
    )
    columns = np.array(v.columns, dtype=object)[v.col[rows]]
    rules = np.array([None, *RULES], dtype=object)[v.code[rows]]
    values: list[str | None] = [None] * rows.size
    for col in set(columns.tolist()) - {None}:
        sel = np.flatnonzero(columns == col)
        src = (
            col
            if col in v.raw.column_names
            else (
                "year_of_birth"
                if col == "birth_date" and "year_of_birth" in v.raw.column_names
                else None
            )
        )
        if src is None:
            continue
        text = as_text(v.raw[src].take(pa.array(rows[sel]))).to_pylist()
        for i, t in zip(sel, text, strict=True):
            values[i] = t
    messages = [
        f"{file} row {r}: {_DESCRIBE[rule].format(column=col, value=val)}"
        + (_expected(name, col) if rule == "unparseable" else "")
        + (f" (patient {p})" if p else "")
        for r, rule, col, val, p in zip(
            numbers, rules, columns, values, pid, strict=True
        )
    ]
    return pa.table(
        {
            "table": [name] * rows.size,
            "source_file": [file] * rows.size,
            "row": numbers.astype(np.int64),
            "patient_id": pid,
            "column": columns.tolist(),
            "rule": rules.tolist(),
            "value": values,
            "message": messages,
        },
        schema=REJECTS_SCHEMA,
    )


#: What an unparseable value should have looked like, by contract type.
_EXPECTED = {
    "date": "; expected YYYY-MM-DD",
    "bool": "; expected true/false, yes/no, y/n or 1/0",
    "int": "; expected a whole number",
    "time": "; expected HH:MM or HH:MM:SS",
}


def _expected(table: str, column: str | None) -> str:
    if column in ("primary_diagnosis", "secondary_diagnoses"):
        return "; it does not have the shape of a code of diagnosis_code_system"
    if column == "drug_code":
        return "; it does not have the shape of a code of drug_code_system"
    if column is None or column not in CONTRACT[table].names:
        return ""
    return _EXPECTED.get(CONTRACT[table][column].dtype, "")


_DESCRIBE = {
    "missing_required": "{column} is empty but required",
    "unparseable": "{column} = {value!r} cannot be read as the contract's type",
    "not_allowed": "{column} = {value!r} is not an allowed value",
    "out_of_range": "{column} = {value!r} is out of range",
    "impossible_date": "{column} = {value!r} is an impossible date (before 1900, "
    "after the extract, or before the patient's birth)",
    "end_before_start": "{column} = {value!r} is before the start of the same row",
    "after_extract_date": "{column} = {value!r} is after the extract date",
    "duplicate_patient_id": "patient_id {value!r} appears more than once; every "
    "copy is rejected",
    "unknown_patient": "patient_id {value!r} is not an accepted patient",
    "after_death": "{column} = {value!r} is after the patient's death",
    "duplicate": "the row is identical to an earlier row of the same table (the "
    "first copy is kept)",
}


def _malformed_rejects(name: str, file: str, rows: Sequence[MalformedRow]) -> pa.Table:
    """Rejects for CSV rows that could not be split into the header's fields."""
    if not rows:
        return REJECTS_SCHEMA.empty_table()
    messages = [
        f"{file} row {m.row}: "
        + (
            "a blank (whitespace-only) line"
            if not m.text.strip()
            else f"has {m.fields:,} fields where the header has {m.expected:,}"
        )
        for m in rows
    ]
    return pa.table(
        {
            "table": [name] * len(rows),
            "source_file": [file] * len(rows),
            "row": [m.row for m in rows],
            "patient_id": [m.patient_id for m in rows],
            "column": [None] * len(rows),
            "rule": ["malformed_row"] * len(rows),
            "value": [m.text for m in rows],
            "message": messages,
        },
        schema=REJECTS_SCHEMA,
    )


def _duplicate_rows(raw: pa.Table) -> np.ndarray:
    """Rows identical, field for field, to an earlier row (the first is kept).

    A 64-bit hash of every row (DuckDB) finds the candidates with a few bytes per
    row; only rows whose hash repeats are then compared in full.
    """
    n = raw.num_rows
    dup = np.zeros(n, dtype=bool)
    if n < 2 or raw.num_columns == 0:
        return dup
    names = ", ".join('"' + c.replace('"', '""') + '"' for c in raw.column_names)
    indexed = raw.append_column("_i", pa.array(np.arange(n, dtype=np.int64)))
    with duckdb.connect() as con:
        con.register("t", indexed)
        hashed = con.sql(f"SELECT _i, hash({names}) AS h FROM t").to_arrow_table()
        h = np.empty(n, dtype=np.uint64)
        h[hashed["_i"].to_numpy()] = hashed["h"].to_numpy()
        _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
        candidates = np.flatnonzero(counts[inverse] > 1)
        if candidates.size == 0:
            return dup
        con.register("c", indexed.take(pa.array(candidates)))
        groups = con.sql(
            f"SELECT list(_i ORDER BY _i) AS ids FROM c GROUP BY {names} "
            "HAVING count(*) > 1"
        ).to_arrow_table()
    for ids in groups["ids"].to_pylist():
        dup[ids[1:]] = True
    return dup


class CanonicalLoad(NamedTuple):
    """What :func:`load_canonical` found besides the tables (for the report)."""

    tables: Tables
    date_checks: list[DateCheck]
    reference_date: dt.date | None
    spells: JoinedSpells


def load_tables(
    path: str | os.PathLike[str],
    *,
    extract_date: dt.date | None = None,
    drug_code_system: str | None = None,
    encoding: str = "utf-8",
    join_spells: bool = True,
) -> Tables:
    r"""Read a folder of canonical tables, validate them, and keep every rejected row.

    Each canonical table is ``<name>.csv`` (UTF-8 with or without BOM unless
    ``encoding`` says otherwise, LF or CRLF) or ``<name>.parquet``. A file that
    cannot be read as a table at all (wrong encoding, not Parquet, truncated, a
    folder, no permission) is an :class:`~riskstrat.exceptions.UnreadableFileError`
    naming the file and never its data; a CSV row that cannot be split into
    the header's fields is a reject (``malformed_row``). Headers are matched
    ignoring case and surrounding spaces; extra columns are dropped (logged).
    ``patients`` may give ``year_of_birth`` instead of ``birth_date`` (1 July of
    that year is used; events are then compared with the birth by year).
    Rows that break the contract go to ``Tables.rejects`` with the file, the row
    number (1-based, header not counted), column, rule and raw value; for every
    table read = accepted + rejected (``Tables.counts``). See the module notes
    for the rules and their priority.

    Parameters
    ----------
    path : path-like
        The folder.
    extract_date : datetime.date, optional
        When the data were extracted; rows dated later are rejected.
    drug_code_system : {"bnf", "dmd", "atc", "rxnorm"}, optional
        Coding system of ``prescriptions.drug_code`` when the file has no
        ``drug_code_system`` column. Not given: inferred only when every code
        has the shape of exactly one system, else a ``SchemaError``.
    encoding : str, default="utf-8"
        Text encoding of the CSV files (``"latin-1"``, ``"cp1252"``,
        ``"utf-16"``, ...). A UTF-8 byte-order mark is skipped.
    join_spells : bool, default=True
        After validation, join the accepted admissions rows (stays) of one
        person that start on or before the latest discharge so far (a transfer
        on the discharge day, or an overlap; an open stay holds every later
        one) into one spell: the first stay's date, time, ``emergency``,
        ``admission_method`` and primary diagnosis, the latest discharge (open
        if any is), every diagnosis (see ``riskstrat.sources._spells``).
        ``counts`` stay in stays (read = accepted + rejected) and
        ``Tables.joined_stays`` says how many were joined. ``False`` keeps
        every row an admission.

    Returns
    -------
    Tables

    Raises
    ------
    UnreadableFileError
        A file cannot be read as a table (a subclass of ``SchemaError``).
    SchemaError
        A required table (patients, admissions) or a required column is missing,
        a required file is empty (0 bytes), a header is duplicated, or a table
        is given both as CSV and Parquet. Nothing is returned.
    FileNotFoundError, NotADirectoryError
        ``path`` is not a folder.

    Warns
    -----
    DataQualityWarning
        Once per table with rejected rows, for an empty optional file, and
        once per date check that looks like per-person date shifting (see
        ``riskstrat.sources._date_checks``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "patient_id,birth_date,sex\np1,1940-01-01,f\n")
    >>> _ = (folder / "admissions.csv").write_text(
    ...     "patient_id,admission_date,discharge_date,emergency\n"
    ...     "p1,2021-01-01,2021-01-04,true\np1,2021-01-04,2021-01-09,false\n")
    >>> t = load_tables(folder)
    >>> [r["accepted"] for r in t.counts.to_pylist() if r["table"] == "admissions"]
    [2]
    >>> t.admissions.num_rows, t.joined_stays
    (1, 1)
    >>> load_tables(folder, join_spells=False).admissions.num_rows
    2
    """
    return load_canonical(
        path,
        extract_date=extract_date,
        drug_code_system=drug_code_system,
        encoding=encoding,
        join_spells=join_spells,
    ).tables


def load_canonical(
    path: str | os.PathLike[str],
    *,
    extract_date: dt.date | None = None,
    drug_code_system: str | None = None,
    encoding: str = "utf-8",
    join_spells: bool = True,
) -> CanonicalLoad:
    """:func:`load_tables`, with what the mapping report needs besides the tables."""
    if not isinstance(join_spells, bool):
        raise TypeError(
            "The `join_spells` parameter of load_tables must be a bool. Got "
            f"{join_spells!r} instead."
        )
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"No such folder: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of canonical tables.")
    if drug_code_system is not None and drug_code_system not in DRUG_CODE_SYSTEMS:
        raise ValueError(
            "The `drug_code_system` parameter of load_tables must be one of "
            f"{list(DRUG_CODE_SYSTEMS)}. Got {drug_code_system!r} instead."
        )
    check_extract_date(extract_date)
    encoding = check_encoding(encoding)
    raws: dict[str, RawTable] = {}
    for name in TABLE_NAMES:
        schema = CONTRACT[name]
        file = _find_file(folder, name)
        if file is None:
            if schema.required:
                present = sorted(
                    p.name for p in folder.iterdir() if not p.name.startswith(".")
                )
                raise SchemaError(
                    f"{folder}: the required {name} table is missing (expected "
                    f"{name}.csv or {name}.parquet). Found: {present}."
                )
            continue
        if check_readable(file) == 0:
            if schema.required:
                raise SchemaError(
                    f"{file.name} is empty (0 bytes); {name} is required."
                )
            warn_caller(
                f"{file.name} is empty (0 bytes); treating {name} as absent.",
                DataQualityWarning,
            )
            continue
        wanted = {*schema.names, "year_of_birth"}
        raw, rows, malformed = read_raw(
            file,
            dictionary=[c.name for c in schema.columns if c.dictionary],
            columns=wanted,
            encoding=encoding,
        )
        _check_columns(schema, raw, file.name)
        extra = sorted(set(raw.column_names) - wanted)
        if extra:
            logger.info(
                "%s: ignoring columns not in the contract: %s", file.name, extra
            )
        raws[name] = RawTable(raw, file.name, rows, tuple(malformed))
    tables = validate_tables(
        raws,
        extract_date=extract_date,
        drug_code_system=drug_code_system,
        reject_duplicates=True,
    )
    spells = join_admissions(tables.admissions, join=join_spells)
    if spells.joined is not None:
        accepted = tables.admissions.num_rows
        logger.info(
            "%s: %d accepted stays joined into %d spells (%d stays joined)",
            raws["admissions"].source,
            accepted,
            spells.admissions.num_rows,
            spells.joined,
        )
        tables = dataclasses.replace(
            tables, admissions=spells.admissions, joined_stays=spells.joined
        )
        if spells.held_by_open:
            warn_caller(
                f"{raws['admissions'].source}: {spells.held_by_open} stays started "
                "after an earlier stay of the same person with no discharge_date "
                "and were joined into its spell (empty = still in hospital). If "
                "those discharges are unknown rather than open, load with "
                "join_spells=False (--no-join-spells).",
                DataQualityWarning,
            )
    checks, reference = check_dates(tables)
    warn_dates(checks, folder.name)
    return CanonicalLoad(tables, checks, reference, spells)


def check_extract_date(extract_date: object) -> None:
    """Refuse an ``extract_date`` that is not a plain ``datetime.date`` (or None).

    Examples
    --------
    >>> import datetime as dt
    >>> check_extract_date(dt.date(2024, 4, 1))
    >>> check_extract_date("2024-04-01")
    Traceback (most recent call last):
    ...
    TypeError: `extract_date` must be a datetime.date. Got '2024-04-01' instead.
    """
    if extract_date is not None and (
        not isinstance(extract_date, dt.date) or isinstance(extract_date, dt.datetime)
    ):
        raise TypeError(
            f"`extract_date` must be a datetime.date. Got {extract_date!r} instead."
        )


class RawTable(NamedTuple):
    """One canonical table as a source supplied it, before validation.

    ``table`` has the contract's column names (text or native Arrow types);
    ``source`` names where it came from (a file name) for rejects and messages;
    ``rows`` gives each row's 1-based row number in that source (default: its
    position in ``table``), so an adapter's rejects point at the source row;
    ``malformed`` the source rows that could not be split into fields (they
    are rejected as ``malformed_row`` and counted as read).
    """

    table: pa.Table
    source: str
    rows: np.ndarray | None = None
    malformed: tuple[MalformedRow, ...] = ()


def validate_tables(
    raws: Mapping[str, RawTable],
    *,
    extract_date: dt.date | None = None,
    drug_code_system: str | None = None,
    reject_duplicates: bool = False,
) -> Tables:
    """Validate in-memory canonical tables exactly as :func:`load_tables` does.

    The one validation of the contract: every source adapter ends here, so the
    rules, rejects and counts are the same whatever the source. An optional
    table not in ``raws`` is absent (empty, and listed in ``Tables.absent``).

    ``reject_duplicates`` turns on the ``duplicate`` rule for event tables. It
    is on for canonical files, where a row is the whole record, and off for
    adapters: an OMOP row has its own id, so two source rows that map to the
    same canonical row are two real records (decision 0010).

    Raises
    ------
    SchemaError
        A required table or a required column is missing.
    """
    raws = dict(raws)
    for name in TABLE_NAMES:
        schema = CONTRACT[name]
        if name not in raws and schema.required:
            raise SchemaError(f"the required {name} table is missing.")
        if name in raws:
            _check_columns(schema, raws[name].table, raws[name].source)
            checked = check_column_types(
                raws[name].table, [*schema.columns, _YEAR], raws[name].source
            )
            raws[name] = raws[name]._replace(table=checked)
    birth_by_year = (
        "birth_date" not in raws["patients"].table.column_names
        and "year_of_birth" in raws["patients"].table.column_names
    )
    absent = [n for n in TABLE_NAMES if n not in raws]
    birth_limit = extract_date
    if extract_date is None and "admissions" in raws:
        birth_limit = _latest_admission_date(raws["admissions"])
        if birth_limit is not None:
            logger.warning(
                "no extract date given: births after the latest admission or "
                "discharge date in the data (%s) are rejected as impossible; "
                "give the extract date to check every date against it",
                birth_limit,
            )
    out: dict[str, pa.Table] = {}
    rejects: list[pa.Table] = []
    counts: list[dict] = []
    patients = None
    for name in TABLE_NAMES:
        schema = CONTRACT[name]
        if name not in raws:
            out[name] = schema.empty()
            counts.append(
                {
                    "table": name,
                    "source_file": None,
                    "read": 0,
                    "accepted": 0,
                    "rejected": 0,
                }
            )
            continue
        raw, file_name, source_rows, malformed = raws[name]
        if source_rows is not None and len(source_rows) != raw.num_rows:
            raise ValueError(
                f"{file_name}: {len(source_rows)} source row numbers for "
                f"{raw.num_rows} rows."
            )
        # Event tables are validated a slice at a time (slices are views), so the
        # intermediate arrays of the checks stay small however long the table.
        step = raw.num_rows if name == "patients" else _CHUNK_ROWS
        duplicate = (
            _duplicate_rows(raw)
            if reject_duplicates and name in _DEDUPLICATED
            else None
        )
        parts, rej_parts = [], [_malformed_rejects(name, file_name, malformed)]
        for start in range(0, max(raw.num_rows, 1), max(step, 1)):
            piece = raw.slice(start, step)
            part, verdict = _validate_table(
                schema,
                piece,
                file_name,
                extract_date=extract_date,
                drug_code_system=drug_code_system,
                patients=patients,
                duplicate=None
                if duplicate is None
                else duplicate[start : start + piece.num_rows],
                birth_by_year=birth_by_year,
                birth_limit=birth_limit,
            )
            numbers = (
                np.arange(start + 1, start + piece.num_rows + 1)
                if source_rows is None
                else np.asarray(source_rows)[start : start + piece.num_rows]
            )
            parts.append(part)
            rej_parts.append(_rejects(name, file_name, verdict, numbers))
        accepted = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        rej = pa.concat_tables(rej_parts)
        if malformed:  # in source order, whatever the rule
            rej = rej.take(pc.sort_indices(rej["row"]))
        if name == "patients":
            patients = accepted
        out[name] = accepted
        rejects.append(rej)
        counts.append(
            {
                "table": name,
                "source_file": file_name,
                "read": raw.num_rows + len(malformed),
                "accepted": accepted.num_rows,
                "rejected": rej.num_rows,
            }
        )
        logger.info(
            "%s: read %d, accepted %d, rejected %d",
            file_name,
            raw.num_rows + len(malformed),
            accepted.num_rows,
            rej.num_rows,
        )
        if rej.num_rows:
            first = rej.slice(0, 1).to_pylist()[0]
            by_rule = sorted(set(rej["rule"].to_pylist()), key=RULES.index)
            where = f"row {first['row']}" + (
                f", column {first['column']}" if first["column"] else ""
            )
            # No value and no patient id here: warnings end up in logs.
            warn_caller(
                f"{file_name}: {rej.num_rows} rows rejected ({', '.join(by_rule)}); "
                f"first: {where} ({first['rule']}). See Tables.rejects.",
                DataQualityWarning,
            )
    return Tables(
        **out,
        rejects=pa.concat_tables(rejects) if rejects else REJECTS_SCHEMA.empty_table(),
        counts=pa.Table.from_pylist(counts, schema=COUNTS_SCHEMA),
        absent=tuple(absent),
        extract_date=extract_date,
    )
