"""Read one canonical file and parse its columns to the contract's types, vectorised.

Headers are checked here for every reader (canonical folders and source
adapters alike): normalised, refused when one appears twice, and compared with
the required columns. Every parser takes the raw column (CSV: strings; Parquet:
native types or strings) and returns ``(typed, bad)``: the typed Arrow array
(null where the value is empty or could not be parsed) and a boolean mask of
values that were present but unparseable.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.exceptions import SchemaError, UnreadableFileError
from riskstrat.sources._files import (
    MalformedRow,
    parquet_schema,
    read_csv_rows,
    read_header,
    read_parquet,
)
from riskstrat.sources._schema import DICTIONARY_STRING, Column

__all__: list[str] = []

#: Accepted abbreviations of enumerated values (after lower-casing).
SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {"f": "female", "m": "male", "o": "other", "u": "unknown"},
}
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_INT_RE = r"^[+-]?\d+$"
_TIME_RE = r"^\d{1,2}:\d{2}(:\d{2})?$"


def normalise_name(name: str) -> str:
    """Header as matched against the contract: BOM and spaces stripped, lower case."""
    return name.replace("\ufeff", "").strip().lower()


class RawRead(NamedTuple):
    """What :func:`read_raw` got from one file.

    ``table`` holds the well-formed rows; ``rows`` their 1-based source row
    numbers when malformed rows were taken out (else None: row i is i + 1);
    ``malformed`` the rows that could not be split into the header's fields.
    """

    table: pa.Table
    rows: np.ndarray | None
    malformed: list[MalformedRow]


def read_raw(
    path: Path,
    *,
    dictionary: Sequence[str] = (),
    columns: Collection[str] | None = None,
    encoding: str = "utf-8",
) -> RawRead:
    """Read a CSV (every column as text) or Parquet file with normalised headers.

    Columns named in ``dictionary`` (normalised names) are read dictionary-
    encoded, so repeated codes and names are never held as one string per row.
    Only the columns named in ``columns`` (normalised) are read from Parquet,
    when given. Every file-level fault is an ``UnreadableFileError``
    (:mod:`riskstrat.sources._files`); malformed CSV rows are returned apart.
    """
    wanted = set(dictionary)
    if path.suffix == ".parquet":
        names = parquet_schema(path).names
        check_unique_headers(names, path.name)
        keep = [n for n in names if columns is None or normalise_name(n) in columns]
        table = read_parquet(
            path,
            columns=keep,
            dictionary=[n for n in keep if normalise_name(n) in wanted],
        )
        return RawRead(normalise_headers(table, path.name), None, [])
    header, delimiter = read_header(path, encoding=encoding)
    if not header:
        return RawRead(pa.table({}), None, [])
    check_unique_headers(header, path.name)
    table, malformed = read_csv_rows(
        path,
        header,
        delimiter=delimiter,
        encoding=encoding,
        column_types={
            n: DICTIONARY_STRING if normalise_name(n) in wanted else pa.string()
            for n in header
        },
    )
    rows = None
    if malformed:
        gone = np.array(sorted(m.row for m in malformed), dtype=np.int64)
        rows = np.setdiff1d(
            np.arange(1, table.num_rows + len(malformed) + 1, dtype=np.int64), gone
        )
    return RawRead(normalise_headers(table, path.name), rows, malformed)


def read_csv_text(
    path: Path,
    names: Sequence[str],
    *,
    delimiter: str = ",",
    dictionary: Sequence[str] = (),
    encoding: str = "utf-8",
) -> pa.Table:
    """A CSV file with every column of its header ``names`` read as text.

    Columns in ``dictionary`` are read as dictionary-encoded text. A file with
    malformed rows is refused as a whole (adapters number rows by position).
    """
    encoded = set(dictionary)
    table, malformed = read_csv_rows(
        path,
        names,
        delimiter=delimiter,
        encoding=encoding,
        column_types={
            n: DICTIONARY_STRING if n in encoded else pa.string() for n in names
        },
    )
    if malformed:
        first = malformed[0]
        raise UnreadableFileError(
            f"{path.name}: {len(malformed):,} row(s) do not have the header's "
            f"{first.expected} fields (first: row {first.row:,} has "
            f"{first.fields:,}); fix or remove them."
        )
    return table


def normalise_headers(table: pa.Table, file_name: str) -> pa.Table:
    """``table`` with :func:`normalise_name` headers; a header met twice is refused.

    Raises
    ------
    SchemaError
        Two headers are the same once normalised (``Sex`` and ``sex ``).
    """
    return table.rename_columns(check_unique_headers(table.column_names, file_name))


def check_unique_headers(names: Sequence[str], file_name: str) -> list[str]:
    """The normalised ``names``; a header met twice is a ``SchemaError``."""
    normalised = [normalise_name(n) for n in names]
    dupes = sorted({n for n in normalised if normalised.count(n) > 1})
    if dupes:
        raise SchemaError(
            f"{file_name}: column(s) {dupes} appear more than once (headers are "
            "matched ignoring case and surrounding spaces)."
        )
    return normalised


def check_required_columns(
    file_name: str, table: str, required: Sequence[str], found: Sequence[str]
) -> None:
    """Refuse a table that lacks a required column, showing expected and found.

    Parameters
    ----------
    file_name : str
        Where the table came from, first in the message.
    table : str
        The table as the message names it (``"patients"``, ``"OMOP CDM person"``).
    required, found : sequence of str
        The columns the table must have, and those it has (normalised).

    Raises
    ------
    SchemaError
        A required column is missing; the message lists both sides and, for
        each missing column, the closest found one (``difflib``).

    Examples
    --------
    >>> check_required_columns("a.csv", "patients", ["patient_id"], ["patient_id"])
    >>> check_required_columns("a.csv", "patients", ["patient_id"], ["patientid"])
    Traceback (most recent call last):
    ...
    riskstrat.exceptions.SchemaError: a.csv: the patients table lacks required column(s) ['patient_id'].
    expected (required): ['patient_id']
    found:               ['patientid']. Near misses: 'patient_id' (did you mean 'patientid'?).
    """  # noqa: E501
    missing = [c for c in required if c not in found]
    if not missing:
        return
    hints = []
    for c in missing:
        close = difflib.get_close_matches(c, found, n=1)
        if close:
            hints.append(f"{c!r} (did you mean {close[0]!r}?)")
    extra = f" Near misses: {', '.join(hints)}." if hints else ""
    raise SchemaError(
        f"{file_name}: the {table} table lacks required column(s) {missing}.\n"
        f"expected (required): {list(required)}\n"
        f"found:               {list(found)}.{extra}"
    )


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_text(t.value_type)
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_null(t)
    )


def _readable(t: pa.DataType, dtype: str) -> bool:
    """A source column of Arrow type ``t`` can be parsed as contract ``dtype``."""
    if _is_text(t):
        return True
    if dtype == "date":
        return pa.types.is_date(t) or pa.types.is_timestamp(t)
    if dtype == "int":
        return pa.types.is_integer(t) or pa.types.is_floating(t)
    if dtype == "bool":
        return pa.types.is_boolean(t) or pa.types.is_integer(t)
    if dtype == "time":
        return pa.types.is_time(t)
    if dtype == "list<string>":
        return (pa.types.is_list(t) or pa.types.is_large_list(t)) and _is_text(
            t.value_type
        )
    # string: a numeric id is read as its text
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def check_column_types(
    table: pa.Table, columns: Sequence[Column], file: str
) -> pa.Table:
    """Refuse a contract column whose type cannot be read; decode binary columns.

    A Parquet column of bytes (no UTF-8 annotation) is decoded as UTF-8 text.

    Raises
    ------
    UnreadableFileError
        A column of a type the contract cannot read (a struct, a map, a list
        where a value is expected), or bytes that are not UTF-8.
    """
    for col in columns:
        if col.name not in table.column_names:
            continue
        t = table.schema.field(col.name).type
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            try:
                text = table[col.name].cast(pa.string())
            except pa.ArrowInvalid:
                raise UnreadableFileError(
                    f"{file}: column {col.name} holds bytes that are not UTF-8 text."
                ) from None
            i = table.column_names.index(col.name)
            table = table.set_column(i, col.name, text)
            continue
        if not _readable(t, col.dtype):
            raise UnreadableFileError(
                f"{file}: column {col.name} has type {t}, which cannot be read as "
                f"the contract's {col.dtype}; store it as text or as {col.dtype}."
            )
    return table


def as_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Trimmed text of any column; empty strings become null."""
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        joined = pc.binary_join(arr.cast(pa.list_(pa.string())), "|")
        return pc.if_else(pc.equal(joined, ""), None, joined)
    arr = arr.cast(pa.string())
    # Typed sources (Parquet) are usually clean already: then keep the column as
    # it is, without copying tens of millions of strings.
    # Checking the distinct values only is several times faster than scanning
    # every row (ids, codes and names repeat).
    values = pc.unique(arr)
    dirty = pc.or_(pc.match_substring_regex(values, r"^\s|\s$"), pc.equal(values, ""))
    if not pc.any(dirty).as_py():
        return arr
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_column(
    raw: pa.ChunkedArray | pa.Array, column: Column
) -> tuple[pa.Array, np.ndarray]:
    """Parse ``raw`` to ``column.arrow_type``; return the array and the bad mask.

    Chunked columns stay chunked (no copy) except lists and times, which are
    small and need whole arrays.
    """
    if isinstance(raw, pa.ChunkedArray) and column.dtype in ("list<string>", "time"):
        raw = raw.combine_chunks()
    t = raw.type
    if column.dtype == "date":
        if pa.types.is_date(t):
            return raw.cast(pa.date32()), np.zeros(len(raw), dtype=bool)
        if pa.types.is_timestamp(t):
            # A zoned instant is dated in its own zone (23:30 on 1 June in London
            # is 1 June, although it is 22:30 UTC), never after a cast to UTC.
            # Floored to the day, not cast: a cast refuses sub-second parts
            # ("would lose data") and would date 23:59:59.9 before 1970 a day late.
            local = pc.local_timestamp(raw) if t.tz else raw
            day = pc.floor_temporal(local, unit="day")
            return day.cast(pa.date32()), np.zeros(len(raw), dtype=bool)
        text = as_text(raw)
        shaped = pc.match_substring_regex(text, _DATE_RE)
        stamp = pc.strptime(
            pc.if_else(shaped, text, None),
            format="%Y-%m-%d",
            unit="s",
            error_is_null=True,
        )
        # strptime rolls impossible days over (2023-02-30 -> 2023-03-02): a date
        # is valid only if it formats back to the text it came from.
        exact = pc.equal(pc.strftime(stamp, format="%Y-%m-%d"), text)
        parsed = pc.if_else(exact, stamp, None).cast(pa.date32())
        return parsed, _mask(pc.and_(pc.is_valid(text), pc.is_null(parsed)))
    if column.dtype == "bool":
        if pa.types.is_boolean(t):
            return raw, np.zeros(len(raw), dtype=bool)
        text = pc.utf8_lower(as_text(raw))
        is_true = pc.is_in(text, value_set=pa.array(_TRUE))
        is_false = pc.is_in(text, value_set=pa.array(_FALSE))
        known = pc.or_(is_true, is_false)
        parsed = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
        return parsed, _mask(pc.and_(pc.is_valid(text), pc.invert(known)))
    if column.dtype == "int":
        if pa.types.is_integer(t):
            if t.bit_width < 32 or t == pa.int32():
                return raw.cast(pa.int32()), np.zeros(len(raw), dtype=bool)
            wide = raw.cast(pa.int64()) if t != pa.uint64() else raw
            ok = pc.and_(
                pc.greater_equal(wide, -(2**31)), pc.less(wide, 2**31)
            ).fill_null(True)
            parsed = pc.if_else(ok, wide, None).cast(pa.int32())
            return parsed, ~_mask(ok)
        if pa.types.is_floating(t):
            whole = pc.equal(pc.floor(raw), raw)
            ok = pc.and_(whole, pc.less(pc.abs(raw), 2**31))
            parsed = pc.if_else(ok, raw, None).cast(pa.int32())
            return parsed, _mask(pc.and_(pc.is_valid(raw), pc.invert(ok)))
        text = as_text(raw)
        ok = pc.and_(
            pc.match_substring_regex(text, _INT_RE),
            pc.less(pc.utf8_length(text), 10),
        )
        # Arrow's cast refuses a leading "+" ("+4"): drop it first.
        digits = pc.replace_substring_regex(text, r"^\+", "")
        parsed = pc.if_else(ok, digits, None).cast(pa.int64()).cast(pa.int32())
        return parsed, _mask(pc.and_(pc.is_valid(text), pc.invert(ok.fill_null(False))))
    if column.dtype == "time":
        if pa.types.is_time(t):
            return raw.cast(pa.time32("s")), np.zeros(len(raw), dtype=bool)
        text = as_text(raw)
        shaped = pc.match_substring_regex(text, _TIME_RE).fill_null(False)
        parts = pc.split_pattern(pc.if_else(shaped, text, None), ":")
        h = pc.list_element(parts, 0).cast(pa.int32())
        m = pc.list_element(parts, 1).cast(pa.int32())
        has_s = pc.greater(pc.list_value_length(parts), 2).fill_null(False)
        s = pc.if_else(has_s, pc.list_element(pc.if_else(has_s, parts, None), 2), "0")
        s = s.cast(pa.int32())
        ok = pc.and_(pc.and_(pc.less(h, 24), pc.less(m, 60)), pc.less(s, 60))
        ok = ok.fill_null(False)
        secs = pc.add(pc.add(pc.multiply(h, 3600), pc.multiply(m, 60)), s)
        parsed = pc.if_else(ok, secs, None).cast(pa.int32()).cast(pa.time32("s"))
        return parsed, _mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
    if column.dtype == "list<string>":
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            flat = normalise_icd10(pc.list_flatten(raw.cast(pa.list_(pa.string()))))
            offsets = raw.cast(pa.list_(pa.string())).offsets
            out = pa.ListArray.from_arrays(offsets, flat, mask=pc.is_null(raw))
            return out, np.zeros(len(raw), dtype=bool)
        text = as_text(raw)
        pieces = pc.split_pattern_regex(pc.fill_null(text, ""), r"[|;]")
        flat = normalise_icd10(pc.list_flatten(pieces))
        keep = pc.is_valid(flat)
        # Drop empty pieces ("A|", "||") by rebuilding offsets from kept counts.
        parent = pc.list_parent_indices(pieces)
        kept_parent = pc.filter(parent, keep).to_numpy(zero_copy_only=False)
        counts = np.bincount(kept_parent, minlength=len(pieces)).astype(np.int32)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        out = pa.ListArray.from_arrays(pa.array(offsets), pc.filter(flat, keep))
        return out, np.zeros(len(raw), dtype=bool)
    if column.dictionary:
        return _parse_dictionary(raw, column), np.zeros(len(raw), dtype=bool)
    return _parse_text(raw, column), np.zeros(len(raw), dtype=bool)


def _parse_text(raw, column: Column):
    """A string column trimmed (empty -> null), lower-cased if enumerated."""
    text = as_text(raw)
    if column.allowed is not None:
        text = pc.utf8_lower(text)
        for short, full in SYNONYMS.get(column.name, {}).items():
            text = pc.if_else(pc.equal(text, short), full, text)
    if column.name == "primary_diagnosis":
        text = normalise_icd10(text)
    return text


def _parse_dictionary(raw, column: Column):
    """A dictionary-encoded string column (``Column.dictionary``), cleaned.

    A dictionary-encoded source column (Parquet read with ``read_dictionary``) is
    cleaned on its distinct values, chunk by chunk; when they are clean already
    the column is kept as it is, without decoding a row. Plain text is cleaned
    and then encoded.
    """
    if not pa.types.is_dictionary(raw.type):
        return _parse_text(raw, column).cast(DICTIONARY_STRING)
    chunks = raw.chunks if isinstance(raw, pa.ChunkedArray) else [raw]
    out = []
    for chunk in chunks:
        values = chunk.dictionary.cast(pa.string())
        clean = _parse_text(values, column)
        indices = chunk.indices.cast(pa.int32())
        if clean.equals(values) and values.null_count == 0:
            out.append(pa.DictionaryArray.from_arrays(indices, values))
        else:  # cleaning merged or emptied values, or a null sits in the
            # dictionary itself (invisible to is_null): encode again
            out.append(pc.take(clean, indices).cast(DICTIONARY_STRING))
    if isinstance(raw, pa.ChunkedArray):
        return pa.chunked_array(out, type=DICTIONARY_STRING)
    return out[0]


def normalise_icd10(codes: pa.Array) -> pa.Array:
    """Upper case, no dot, no spaces (``k59.0`` -> ``K590``); empty -> null.

    Examples
    --------
    >>> import pyarrow as pa
    >>> normalise_icd10(pa.array(["k59.0", " E86 ", "", None])).to_pylist()
    ['K590', 'E86', None, None]
    """
    text = pc.utf8_upper(pc.replace_substring(as_text(codes), ".", ""))
    text = pc.replace_substring(text, " ", "")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
