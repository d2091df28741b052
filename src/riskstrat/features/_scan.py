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
table's row count must equal the accepted count and its schema the contract's;
otherwise the folder is read and validated as any other.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

__all__: list[str] = []

logger = logging.getLogger(__name__)

_COUNTS = "_counts.parquet"


def validated_folder(
    path: str | os.PathLike[str],
) -> tuple[Path, tuple[str, ...]] | None:
    """``(folder, absent tables)`` if ``path`` holds validated tables, else None."""
    from riskstrat.sources import CONTRACT, TABLE_NAMES

    folder = Path(path)
    if not (folder / _COUNTS).is_file():
        return None
    counts = {r["table"]: r for r in pq.read_table(folder / _COUNTS).to_pylist()}
    absent = []
    for name in TABLE_NAMES:
        file = folder / f"{name}.parquet"
        if not file.is_file():
            if CONTRACT[name].required:
                return None
            absent.append(name)
            continue
        meta = pq.read_metadata(file)
        row = counts.get(name)
        if (
            row is None
            or row["accepted"] != meta.num_rows
            or not _same_columns(
                meta.schema.to_arrow_schema(), CONTRACT[name].arrow_schema()
            )
        ):
            logger.info(
                "%s does not match %s; validating the folder again", file.name, _COUNTS
            )
            return None
    return folder, tuple(absent)


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
    folder: Path,
    absent: tuple[str, ...],
    *,
    issued_from: dt.date | None = None,
    issued_before: dt.date | None = None,
):
    """The validated tables of ``folder``, prescriptions only in ``[from, before)``.

    The extract date comes from the metadata of ``_counts.parquet``.
    """
    from riskstrat.sources import CONTRACT, TABLE_NAMES, Tables
    from riskstrat.sources._tables import EXTRACT_DATE_KEY

    meta = pq.read_schema(folder / _COUNTS).metadata or {}
    extract = meta.get(EXTRACT_DATE_KEY.encode(), b"").decode()
    tables = {}
    for name in TABLE_NAMES:
        if name in absent:
            continue
        path = folder / f"{name}.parquet"
        if (
            name == "prescriptions"
            and issued_from is not None
            and issued_before is not None
            and issued_from >= issued_before
        ):
            continue  # an empty window: nothing to read (left empty, not absent)
        if name == "prescriptions" and issued_from is not None:
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
    return Tables(
        **tables,
        absent=absent,
        extract_date=dt.date.fromisoformat(extract) if extract else None,
    )
