"""Reading a folder of validated Parquet tables without validating it again.

A folder written by :meth:`riskstrat.sources.Tables.to_parquet` (``riskstrat
synth``, ``riskstrat validate --out``) holds only rows that passed validation,
plus ``_counts.parquet``. For such a folder the feature build need not load and
validate every row again: the tables are read as they are, and prescriptions
only within the drug window the features use (a filter applied while reading,
row group by row group), so the largest table never sits in memory whole. The
result is an ordinary :class:`~riskstrat.sources.Tables`, so the same
preparation and SQL run on it as on any other.

Before trusting a folder its files are checked against ``_counts.parquet``: each
table file's SHA-256 must equal the one recorded when it was written, its row
count the accepted count (for admissions joined into spells after validation:
the accepted stays less those joined, recorded beside the counts) and its schema
the contract's; otherwise (a file edited
by hand, a folder written before checksums were recorded) the folder is read and
validated as any other.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from riskstrat.sources._mapping import MappingReport, read_mapping, with_report
from riskstrat.sources._schema import CONTRACT
from riskstrat.sources._tables import (
    EXTRACT_DATE_KEY,
    JOINED_STAYS_KEY,
    TABLE_NAMES,
    Tables,
    file_sha256,
)

__all__ = ["ValidatedFolder", "read_validated", "validated_folder"]

logger = logging.getLogger(__name__)

_COUNTS = "_counts.parquet"


@dataclass(frozen=True)
class ValidatedFolder:
    """A folder of validated tables that matched its ``_counts.parquet``.

    What :func:`riskstrat.sources.open_tables` returns for such a folder: a
    handle, not the rows. Every stage accepts it as it accepts
    :class:`~riskstrat.sources.Tables` and reads only what it needs
    (:meth:`read`).

    Attributes
    ----------
    path : Path
    absent : tuple of str
        Optional tables the folder does not hold.
    extract_date : datetime.date or None
        Stored in ``_counts.parquet`` when the folder was written.
    mapping : MappingReport or None
        The mapping report of the source the folder was validated from, when it
        was kept.
    """

    path: Path
    absent: tuple[str, ...]
    extract_date: dt.date | None
    mapping: MappingReport | None = None

    def read(
        self,
        *,
        issued_from: dt.date | None = None,
        issued_before: dt.date | None = None,
    ) -> Tables:
        """The tables, prescriptions only in ``[issued_from, issued_before)``."""
        return read_validated(
            self, issued_from=issued_from, issued_before=issued_before
        )


def validated_folder(path: str | os.PathLike[str]) -> ValidatedFolder | None:
    """The folder, its absent tables and extract date if it holds validated tables."""
    folder = Path(path)
    if not (folder / _COUNTS).is_file():
        return None
    try:
        counts_table = pq.read_table(folder / _COUNTS)
    except (pa.ArrowException, OSError):
        logger.info("%s cannot be read; validating the folder again", _COUNTS)
        return None
    if "sha256" not in counts_table.column_names:
        logger.info("%s has no checksums; validating the folder again", _COUNTS)
        return None
    counts = {r["table"]: r for r in counts_table.to_pylist()}
    metadata = counts_table.schema.metadata or {}
    joined_text = metadata.get(JOINED_STAYS_KEY.encode(), b"").decode()
    if not joined_text.isdigit() and joined_text:
        logger.info("%s: unreadable joined-stays count; validating again", _COUNTS)
        return None
    joined = int(joined_text or 0)
    absent = []
    for name in TABLE_NAMES:
        file = folder / f"{name}.parquet"
        if not file.is_file():
            if CONTRACT[name].required:
                return None
            absent.append(name)
            continue
        row = counts.get(name)
        if row is None or row["sha256"] != file_sha256(file):
            logger.info(
                "%s changed since it was validated (SHA-256 differs from %s); "
                "validating the folder again",
                file.name,
                _COUNTS,
            )
            return None
        meta = pq.read_metadata(file)
        expected = row["accepted"] - (joined if name == "admissions" else 0)
        if expected != meta.num_rows or not _same_columns(
            meta.schema.to_arrow_schema(), CONTRACT[name].arrow_schema()
        ):
            logger.info(
                "%s does not match %s; validating the folder again", file.name, _COUNTS
            )
            return None
    stored = metadata.get(EXTRACT_DATE_KEY.encode(), b"")
    try:
        extract = dt.date.fromisoformat(stored.decode()) if stored else None
    except ValueError:
        logger.info("%s: unreadable extract date; validating again", _COUNTS)
        return None
    return ValidatedFolder(
        path=folder,
        absent=tuple(absent),
        extract_date=extract,
        mapping=read_mapping(folder),
    )


def _same_columns(found: pa.Schema, expected: pa.Schema) -> bool:
    """Same names and types.

    Parquet may store a time in another unit, and a dictionary-encoded column as
    plain text (files written before decision 0008); both are cast on reading.
    """
    if found.names != expected.names:
        return False
    return all(
        f.type == e.type
        or (pa.types.is_time(f.type) and pa.types.is_time(e.type))
        or (pa.types.is_dictionary(e.type) and f.type == e.type.value_type)
        for f, e in zip(found, expected, strict=True)
    )


def read_validated(
    found: ValidatedFolder,
    *,
    issued_from: dt.date | None = None,
    issued_before: dt.date | None = None,
):
    """The validated tables of ``found``, prescriptions only in ``[from, before)``."""
    tables = {}
    for name in TABLE_NAMES:
        if name in found.absent:
            continue
        path = found.path / f"{name}.parquet"
        if name == "prescriptions" and issued_from is not None:
            if issued_before is None or issued_from >= issued_before:
                continue  # an empty window: nothing to read (empty, not absent)
            # DuckDB reads the other columns only for rows inside the window.
            with duckdb.connect() as con:
                table = con.sql(
                    "SELECT * FROM read_parquet($path) "
                    "WHERE issue_date >= $lo AND issue_date < $hi",
                    params={"path": str(path), "lo": issued_from, "hi": issued_before},
                ).to_arrow_table()
        else:
            table = pq.read_table(path)
        tables[name] = table.cast(CONTRACT[name].arrow_schema())
    out = Tables(**tables, absent=found.absent, extract_date=found.extract_date)
    # The source's mapping report, when the folder keeps one: what it could not
    # support stays unknown (null) in features and labels read from the folder.
    report = found.mapping
    return out if report is None else with_report(out, report)
