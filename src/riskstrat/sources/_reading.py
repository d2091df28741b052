"""Open the tables of a source database as DuckDB views, whatever they are stored in.

An adapter (OMOP, Synthea) names the tables it reads and the columns each must
have; this module finds them in a folder of CSV or Parquet files (file names and
headers in any case: ``PERSON.csv``, ``person.parquet``, ``PERSON_ID``) or in a
DuckDB database file (optionally in a named schema), and exposes each as a view
in an in-memory DuckDB connection with lower-case column names. Tables whose
rows are mapped get a ``_row`` column, the 1-based row number in the source
(header not counted), so unmapped and rejected rows can be found again.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from riskstrat.exceptions import SchemaError, UnreadableFileError
from riskstrat.sources._files import (
    check_readable,
    parquet_schema,
    read_header,
    read_parquet,
)
from riskstrat.sources._parse import (
    check_required_columns,
    check_unique_headers,
    normalise_headers,
    normalise_name,
    read_csv_text,
)

__all__: list[str] = []

logger = logging.getLogger(__name__)

_SUFFIXES = (".csv", ".parquet")
_GENERIC_NAME = re.compile(r"^column\d+$")
_DUCKDB_MAGIC = b"DUCK"


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """What an adapter needs of one source table.

    Parameters
    ----------
    required : bool
        Missing table is a ``SchemaError``; otherwise it is reported absent.
    columns : tuple of str
        Lower-case columns the table must have (``SchemaError`` if missing).
    numbered : bool
        Rows are mapped and need their source row number (``_row``).
    """

    required: bool = False
    columns: tuple[str, ...] = ()
    numbered: bool = True


@dataclass(frozen=True, kw_only=True)
class SourceView:
    """One source table, opened as a DuckDB view."""

    name: str
    label: str
    view: str
    columns: Mapping[str, str]
    rows: int

    def has(self, column: str) -> bool:
        """The table has ``column`` (lower case)."""
        return column in self.columns

    def type_of(self, column: str) -> str:
        """DuckDB type of ``column`` (upper case, e.g. ``VARCHAR``, ``DATE``)."""
        return self.columns[column]


def run(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """Execute one statement and fetch all of its result."""
    return con.execute(sql).fetchall()


def is_duckdb_file(path: Path) -> bool:
    """``path`` is a DuckDB database file (checked by its magic bytes)."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[8:12] == _DUCKDB_MAGIC


def open_tables(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike[str],
    specs: Mapping[str, TableSpec],
    *,
    what: str,
    schema: str | None = None,
) -> dict[str, SourceView]:
    """Open every table of ``specs`` found at ``path`` as a view in ``con``.

    Parameters
    ----------
    con : duckdb connection
        Where the views are created (``src_<name>``).
    path : path-like
        A folder of ``<table>.csv`` / ``<table>.parquet`` files, or a DuckDB file.
    specs : mapping of str to TableSpec
        Table names (lower case) and what each must have.
    what : str
        The kind of source, for messages ("OMOP CDM", "Synthea").
    schema : str, optional
        DuckDB schema holding the tables (default: the schema that has the first
        required table, ``main`` when several do).

    Returns
    -------
    dict of str to SourceView
        Only the tables found; absent optional tables are left out.

    Raises
    ------
    SchemaError
        A required table or a required column is missing, or a table is given
        twice (CSV and Parquet).
    FileNotFoundError, ValueError
        ``path`` does not exist, or is neither a folder nor a DuckDB file.
    """
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"No such folder or DuckDB file: {source}")
    if source.is_dir():
        if schema is not None:
            raise ValueError(
                "The `schema` parameter applies to a DuckDB database file only; "
                f"{source.name} is a folder."
            )
        views = _open_folder(con, source, specs, what=what)
    elif is_duckdb_file(source):
        views = _open_duckdb(con, source, specs, what=what, schema=schema)
    else:
        raise ValueError(
            f"{source.name} is neither a folder of {what} CSV/Parquet files nor a "
            "DuckDB database file."
        )
    for name, spec in specs.items():
        if name in views:
            view = views[name]
            check_required_columns(
                view.label, f"{what} {name}", spec.columns, list(view.columns)
            )
    return views


def _missing_table(name: str, where: str, found: list[str], what: str) -> SchemaError:
    return SchemaError(
        f"{where}: the required {what} {name} table is missing (expected "
        f"{name}.csv or {name}.parquet, or a {name} table; names in any case). "
        f"Found: {found}."
    )


# -- folders -------------------------------------------------------------------


def _open_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    specs: Mapping[str, TableSpec],
    *,
    what: str,
) -> dict[str, SourceView]:
    files: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in _SUFFIXES:
            files.setdefault(p.stem.lower(), []).append(p)
    views: dict[str, SourceView] = {}
    for name, spec in specs.items():
        found = files.get(name, [])
        if len(found) > 1:
            raise SchemaError(
                f"{folder}: {' and '.join(p.name for p in found)} both hold the "
                f"{name} table; keep one so it is clear which is the source."
            )
        if not found:
            if spec.required:
                raise _missing_table(
                    name, str(folder), sorted(p.name for p in _visible(folder)), what
                )
            continue
        file = found[0]
        if spec.numbered:
            views[name] = _register_arrow(con, name, file.name, _read_file(file))
        else:
            views[name] = _view_of_file(con, name, file)
    return views


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _read_file(path: Path) -> pa.Table:
    """A CSV (every column as text) or Parquet file as Arrow, headers normalised.

    Every file-level fault (encoding, truncation, not Parquet, a folder, a header
    with no end) is an ``UnreadableFileError`` naming the file, not its data.
    """
    if path.suffix.lower() == ".parquet":
        names = parquet_schema(path).names
        check_unique_headers(names, path.name)
        table = read_parquet(path, columns=names, dictionary=())
    else:
        if check_readable(path) == 0:
            raise SchemaError(f"{path.name} is empty (0 bytes): it has no header row.")
        names, delimiter = read_header(path, encoding="utf-8")
        check_unique_headers(names, path.name)
        table = read_csv_text(path, names, delimiter=delimiter)
    return normalise_headers(table, path.name)


def _register_arrow(
    con: duckdb.DuckDBPyConnection, name: str, label: str, table: pa.Table
) -> SourceView:
    rows = pa.array(range(1, table.num_rows + 1), type=pa.int64())
    table = table.append_column("_row", rows)
    con.register(f"arrow_{name}", table)
    run(con, f"CREATE OR REPLACE VIEW src_{name} AS SELECT * FROM arrow_{name}")
    return _describe(con, name, label)


def _view_of_file(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> SourceView:
    """A vocabulary file read by DuckDB directly (these can be very large)."""
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        scan = f"read_parquet('{quoted}')"
    else:
        scan = f"read_csv('{quoted}', header = true, all_varchar = true)"
    check_readable(path)
    try:
        cols = run(con, f"DESCRIBE SELECT * FROM {scan}")
    except duckdb.Error as exc:
        raise UnreadableFileError(
            f"{path.name}: cannot be read as a table ({type(exc).__name__})."
        ) from None
    select = ", ".join(f'"{c[0]}" AS "{normalise_name(c[0])}"' for c in cols)
    run(con, f"CREATE OR REPLACE VIEW src_{name} AS SELECT {select} FROM {scan}")
    return _describe(con, name, path.name, count=False)


def _describe(
    con: duckdb.DuckDBPyConnection, name: str, label: str, *, count: bool = True
) -> SourceView:
    cols = run(con, f"DESCRIBE src_{name}")
    rows = 0
    if count:  # vocabularies can be huge and their size is not reported
        (rows,) = run(con, f"SELECT count(*) FROM src_{name}")[0]
    return SourceView(
        name=name,
        label=label,
        view=f"src_{name}",
        columns={c[0]: str(c[1]).upper() for c in cols if c[0] != "_row"},
        rows=int(rows),
    )


# -- DuckDB database files -----------------------------------------------------


def _open_duckdb(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    specs: Mapping[str, TableSpec],
    *,
    what: str,
    schema: str | None,
) -> dict[str, SourceView]:
    quoted = str(path).replace("'", "''")
    try:
        run(con, f"ATTACH '{quoted}' AS src (READ_ONLY)")
    except duckdb.Error as exc:
        raise UnreadableFileError(
            f"{path.name}: the DuckDB database cannot be opened "
            f"({type(exc).__name__}); it may be damaged or in use."
        ) from None
    listing = run(
        con,
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = 'src'",
    )
    schemas = sorted({s for s, _, _ in listing})
    if schema is None:
        first = next((n for n, s in specs.items() if s.required), None)
        having = sorted({s for s, t, _ in listing if t.lower() == first})
        schema = "main" if "main" in having or not having else having[0]
        if len(having) > 1 and "main" not in having:
            raise SchemaError(
                f"{path.name}: the {first} table is in several schemas {having}; "
                "say which with `schema`."
            )
    elif schema not in schemas:
        raise SchemaError(
            f"{path.name}: no schema {schema!r}. Schemas found: {schemas}."
        )
    tables = {t.lower(): (t, kind) for s, t, kind in listing if s == schema}
    label_base = f"{path.name}:{schema}"
    views: dict[str, SourceView] = {}
    for name, spec in specs.items():
        if name not in tables:
            if spec.required:
                raise _missing_table(name, label_base, sorted(tables), what)
            continue
        real, kind = tables[name]
        ref = f'src."{schema}"."{real}"'
        label = f"{label_base}.{real}"
        views[name] = _view_of_table(
            con, name, label, ref, base=kind == "BASE TABLE", count=spec.numbered
        )
    return views


def _view_of_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    label: str,
    ref: str,
    *,
    base: bool,
    count: bool,
) -> SourceView:
    cols = [c[0] for c in run(con, f"DESCRIBE SELECT * FROM {ref}")]
    number = "rowid + 1" if base else "row_number() OVER ()"
    names = [normalise_name(c) for c in cols]
    where = ""
    if cols and all(_GENERIC_NAME.match(c) for c in names):
        # A header-only CSV imported without its header: the names are the first
        # row and there are no data rows after it (seen in the Eunomia sample).
        first = run(
            con, f"SELECT * FROM (SELECT *, {number} AS _n FROM {ref}) WHERE _n = 1"
        )
        if first and all(isinstance(v, str) and v for v in first[0][:-1]):
            names = [normalise_name(v) for v in first[0][:-1]]
            number = f"({number}) - 1"
            where = " WHERE _row >= 1"
            logger.info(
                "%s: the first row holds the column names; used as header", label
            )
    select = ", ".join(f'"{c}" AS "{n}"' for c, n in zip(cols, names, strict=True))
    run(
        con,
        f"CREATE OR REPLACE VIEW src_{name} AS SELECT * FROM "
        f"(SELECT {select}, {number} AS _row FROM {ref}){where}",
    )
    return _describe(con, name, label, count=count)
