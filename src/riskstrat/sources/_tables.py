"""The :class:`Tables` object: the canonical tables every later stage accepts."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from riskstrat._utils import write_parquet
from riskstrat.exceptions import SchemaError
from riskstrat.sources._schema import CONTRACT, REJECTS_SCHEMA

__all__ = [
    "COUNTS_SCHEMA",
    "EXTRACT_DATE_KEY",
    "JOINED_STAYS_KEY",
    "TABLE_NAMES",
    "Tables",
    "file_sha256",
    "publish_folder",
]

TABLE_NAMES: tuple[str, ...] = tuple(CONTRACT)

#: Metadata key of ``_counts.parquet`` holding the extract date (ISO; empty = unknown).
EXTRACT_DATE_KEY = "riskstrat.extract_date"

#: Metadata key of ``_counts.parquet`` holding :attr:`Tables.joined_stays` (empty =
#: not joined after validation).
JOINED_STAYS_KEY = "riskstrat.joined_stays"

#: One row per canonical table: how many source rows were read, accepted, rejected.
COUNTS_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("source_file", pa.string()),
        pa.field("read", pa.int64(), nullable=False),
        pa.field("accepted", pa.int64(), nullable=False),
        pa.field("rejected", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True, kw_only=True)
class Tables:
    """The canonical tables, validated, as Arrow tables.

    Every attribute named after a canonical table is a :class:`pyarrow.Table` with
    exactly the schema of ``CONTRACT[name].arrow_schema()`` (dates are ``date32``).
    Arrow, not pandas: DuckDB and Spark read these without a copy, and pandas
    appears only at the model boundary (``table.to_pandas()`` when you want it).

    Parameters
    ----------
    patients, admissions, prescriptions, residences, nominations, enrolments : Table
        Accepted rows of each canonical table.
    screenings : pyarrow.Table, default=empty
        Accepted rows of the optional screenings table (case managers' decisions).
    rejects : pyarrow.Table, default=empty
        One row per rejected source row (``REJECTS_SCHEMA``): table, source file,
        row number (1-based, header not counted), patient id, column, rule, value,
        message.
    counts : pyarrow.Table, default=empty
        Per table: rows read, accepted and rejected (``COUNTS_SCHEMA``).
        ``read == accepted + rejected`` always holds.
    absent : tuple of str, default=()
        Optional tables that the source did not supply (they are empty here, and
        features that need them are reported as not computable, not faked).
    extract_date : datetime.date or None, default=None
        The date the data were extracted, if known.
    joined_stays : int or None, default=None
        Accepted admissions rows (stays) that :func:`load_tables` joined into an
        earlier stay's spell after validation, so that ``counts`` (in stays)
        has ``accepted = admissions.num_rows + joined_stays`` for admissions.
        None: not joined after validation (``join_spells=False``, an adapter
        that joins before validation, or tables given directly).
    """

    patients: pa.Table
    admissions: pa.Table
    prescriptions: pa.Table = field(default_factory=CONTRACT["prescriptions"].empty)
    residences: pa.Table = field(default_factory=CONTRACT["residences"].empty)
    nominations: pa.Table = field(default_factory=CONTRACT["nominations"].empty)
    enrolments: pa.Table = field(default_factory=CONTRACT["enrolments"].empty)
    screenings: pa.Table = field(default_factory=CONTRACT["screenings"].empty)
    rejects: pa.Table = field(default_factory=REJECTS_SCHEMA.empty_table)
    counts: pa.Table = field(default_factory=COUNTS_SCHEMA.empty_table)
    absent: tuple[str, ...] = ()
    extract_date: dt.date | None = None
    joined_stays: int | None = None

    def __post_init__(self) -> None:
        for name in TABLE_NAMES:
            table = getattr(self, name)
            expected = CONTRACT[name].arrow_schema()
            if not isinstance(table, pa.Table):
                raise TypeError(
                    f"Tables.{name} must be a pyarrow.Table. Got "
                    f"{type(table).__name__} instead."
                )
            if not table.schema.equals(expected):
                raise SchemaError(
                    f"Tables.{name} does not have the canonical schema.\n"
                    f"expected: {expected}\nfound:    {table.schema}"
                )
        unknown = set(self.absent) - set(TABLE_NAMES)
        if unknown:
            raise ValueError(f"Tables.absent names unknown tables: {sorted(unknown)}")

    @property
    def mapping(self):
        """The source's mapping report (None for tables given directly)."""
        return None

    def read(
        self,
        *,
        issued_from: dt.date | None = None,
        issued_before: dt.date | None = None,
    ) -> Tables:
        """These tables (the stages' common entry; see ``ValidatedFolder.read``)."""
        return self

    def __getitem__(self, name: str) -> pa.Table:
        if name not in TABLE_NAMES:
            raise KeyError(f"{name!r} is not a canonical table; one of {TABLE_NAMES}")
        return getattr(self, name)

    def items(self) -> Iterator[tuple[str, pa.Table]]:
        """Iterate over ``(name, table)`` for the canonical tables."""
        for name in TABLE_NAMES:
            yield name, getattr(self, name)

    def to_parquet(self, directory: str | os.PathLike[str]) -> Path:
        """Write each canonical table as ``<name>.parquet`` into ``directory``.

        Absent tables are not written (and a stale ``<name>.parquet`` of an
        absent table is removed), so :func:`load_tables` reports them absent
        again. Rejects and counts are written as ``_rejects.parquet`` and
        ``_counts.parquet``; ``_counts.parquet`` also holds the SHA-256 of each
        table file (column ``sha256``), so a reader can tell a changed file
        from a validated one, and the extract date, if known, in its metadata
        (:data:`EXTRACT_DATE_KEY`), so a reader of the folder knows how far
        outcomes were observed, and :attr:`joined_stays`
        (:data:`JOINED_STAYS_KEY`), so the admissions file's spells reconcile
        with the accepted stays. Each file is written to a temporary name and
        renamed, so a reader never sees half a file; :func:`publish_folder`
        makes the whole folder appear at once.

        Returns
        -------
        pathlib.Path
            The directory.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        files = {name: t for name, t in self.items() if name not in self.absent}
        files["_rejects"] = self.rejects
        digests: dict[str, str] = {}
        for name, table in files.items():
            path = out / f"{name}.parquet"
            write_parquet_atomic(table, path)
            digests[name] = file_sha256(path)
        for name in self.absent:
            (out / f"{name}.parquet").unlink(missing_ok=True)
        extract = "" if self.extract_date is None else self.extract_date.isoformat()
        sha = pa.array(
            [digests.get(t) for t in self.counts["table"].to_pylist()], pa.string()
        )
        counts = self.counts.append_column("sha256", sha)
        joined = "" if self.joined_stays is None else str(self.joined_stays)
        write_parquet_atomic(
            counts.replace_schema_metadata(
                {EXTRACT_DATE_KEY: extract, JOINED_STAYS_KEY: joined}
            ),
            out / "_counts.parquet",
        )
        return out


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def publish_folder(
    tables: Tables, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``tables`` as a new folder that appears whole, by one rename.

    The tables are written into a temporary sibling folder, which is then
    renamed to ``directory``: a reader sees the old folder or the new one,
    never a mix, and a failed write leaves ``directory`` as it was.

    Parameters
    ----------
    tables : Tables
    directory : path-like
        Must not exist or be empty, unless ``overwrite``.
    overwrite : bool, default=False
        Replace a non-empty ``directory`` (its old contents are removed, so no
        table of an earlier population survives).

    Raises
    ------
    FileExistsError
        ``directory`` holds files and ``overwrite`` is False, or is a file.
    """
    out = Path(directory)
    check_publishable(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".new"))
    old = None
    try:
        tables.to_parquet(tmp)
        if out.exists():
            old = Path(
                tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old")
            )
            os.replace(out, old / out.name)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return out


def check_publishable(out: Path, *, overwrite: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder without ``overwrite``.

    Raises
    ------
    FileExistsError
        With a message that says what to do.
    """
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file; give a folder for the tables.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{out} is not empty; give an empty or new folder, or --overwrite to "
            "replace its contents (nothing of the old folder is kept)."
        )


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` via a temporary file in the same folder."""
    write_parquet(table, path)
