"""DuckDB straight over a folder of validated Parquet tables.

A folder written by :meth:`riskstrat.sources.Tables.to_parquet` (``riskstrat
synth``, ``riskstrat validate --out``) holds only rows that passed validation,
plus ``_counts.parquet``. For such a folder the feature build need not load and
validate every row again: DuckDB scans the Parquet files itself and pushes the
SQL's date windows and column choices into the scan, so neither the whole
prescription table nor pandas ever sits in memory. The views below are the SQL
twins of :func:`riskstrat.features._prepare.prepare` (same names, columns and
meaning), so the feature SQL is the same text on every path.

Before trusting a folder its files are checked against ``_counts.parquet``: each
table's row count must equal the accepted count and its schema the contract's;
otherwise the folder is read and validated as any other.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from riskstrat.features._comorbidity import code_map

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
        schema = meta.schema.to_arrow_schema()
        expected = CONTRACT[name].arrow_schema()
        if (
            row is None
            or row["accepted"] != meta.num_rows
            or not _same_columns(schema, expected)
        ):
            logger.info(
                "%s does not match %s; validating the folder again", file.name, _COUNTS
            )
            return None
    return folder, tuple(absent)


def _same_columns(found: pa.Schema, expected: pa.Schema) -> bool:
    """Same names and types (Parquet may store a time in another unit)."""
    if found.names != expected.names:
        return False
    for f, e in zip(found, expected, strict=True):
        if f.type != e.type and not (
            pa.types.is_time(f.type) and pa.types.is_time(e.type)
        ):
            return False
    return True


def _parquet(folder: Path, name: str) -> str:
    path = str((folder / f"{name}.parquet").resolve()).replace("'", "''")
    return f"read_parquet('{path}')"


def run_scan(sql: str, folder: Path, absent: tuple[str, ...], threads: int) -> pa.Table:
    """Run the feature SQL over views of the Parquet files in ``folder``."""
    import duckdb

    from riskstrat.sources import CONTRACT

    con = duckdb.connect()
    try:
        con.execute(f"SET threads TO {threads}")
        for name in ("patients", "admissions", "prescriptions", "residences"):
            if name in absent:
                con.register(f"_{name}", CONTRACT[name].empty())
                source = f"_{name}"
            else:
                source = _parquet(folder, name)
            con.execute(f"CREATE VIEW src_{name} AS SELECT * FROM {source}")
        nominations = (
            "_nominations"
            if "nominations" in absent
            else _parquet(folder, "nominations")
        )
        if "nominations" in absent:
            con.register("_nominations", CONTRACT["nominations"].empty())
        con.execute("CREATE VIEW patients AS SELECT * FROM src_patients")
        con.execute("CREATE VIEW residences AS SELECT * FROM src_residences")
        con.execute(
            f"CREATE VIEW nominations AS SELECT patient_id, date FROM {nominations}"
        )
        con.execute("""
            CREATE VIEW admissions AS
            SELECT patient_id, admission_date, discharge_date, emergency,
                CAST(hour(admission_time) AS INTEGER) AS admission_hour
            FROM src_admissions""")
        con.execute("""
            CREATE VIEW diagnoses AS
            SELECT patient_id, admission_date, code,
                substr(code, 1, 3) AS code3, substr(code, 1, 4) AS code4
            FROM (
                SELECT patient_id, admission_date, primary_diagnosis AS code
                FROM src_admissions
                UNION ALL
                SELECT patient_id, admission_date, unnest(secondary_diagnoses) AS code
                FROM src_admissions
            )
            WHERE code IS NOT NULL""")
        con.execute("""
            CREATE VIEW prescriptions AS
            SELECT patient_id, issue_date, drug_code,
                CASE WHEN drug_code_system = 'bnf' THEN substr(drug_code, 1, 2) END
                    AS bnf_chapter
            FROM src_prescriptions""")
        con.register("code_map", code_map())
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()
