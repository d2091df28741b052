"""Case-management capacity per locality: the localities file, validated."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from riskstrat.exceptions import SchemaError
from riskstrat.stratify._settings import (
    CASELOAD_RANGE,
    RESERVE_RANGE,
    StratifySettings,
)

__all__ = ["LOCALITIES_SCHEMA", "as_localities", "localities_table", "read_localities"]

#: A validated localities table (``caseload_per_fte``/``reserve_share`` filled).
LOCALITIES_SCHEMA = pa.schema(
    [
        pa.field("locality", pa.string(), nullable=False),
        pa.field("case_managers_fte", pa.float64(), nullable=False),
        pa.field("caseload_per_fte", pa.int64(), nullable=False),
        pa.field("reserve_share", pa.float64(), nullable=False),
        pa.field("capacity", pa.int64(), nullable=False),
        pa.field("reserve", pa.int64(), nullable=False),
        pa.field("listable", pa.int64(), nullable=False),
    ]
)

_COLUMNS = ("locality", "case_managers_fte", "caseload_per_fte", "reserve_share")


def _number(
    text: str, *, where: str, column: str, integer: bool = False
) -> float | None:
    text = text.strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{where}, column {column}: not a number. Got {text!r}."
        ) from None
    if not math.isfinite(value) or (integer and value != int(value)):
        kind = "a whole number" if integer else "a finite number"
        raise ValueError(f"{where}, column {column}: must be {kind}. Got {text!r}.")
    return value


def localities_table(
    rows: Sequence[Mapping[str, object]],
    *,
    settings: StratifySettings | None = None,
    source: str = "localities",
    row_numbers: list[int] | None = None,
) -> pa.Table:
    """Validate locality rows and work out each locality's capacity.

    Parameters
    ----------
    rows : list of dict
        One dict per locality with ``locality`` and ``case_managers_fte`` and,
        optionally, ``caseload_per_fte`` and ``reserve_share`` (None = the
        default from ``settings``). Values may be numbers or text.
    settings : StratifySettings, default=None
        Defaults for ``caseload_per_fte`` (50) and ``reserve_share`` (0.15).
    source : str, default="localities"
        Name used in error messages (the file name when read from a file).
    row_numbers : list of int, default=None
        Row number of each row in its file, for messages (default 1, 2, ...).

    Returns
    -------
    pyarrow.Table
        :data:`LOCALITIES_SCHEMA`, in the order given: ``capacity =
        floor(case_managers_fte * caseload_per_fte)``, ``reserve =
        ceil(capacity * reserve_share)``, ``listable = capacity - reserve``.

    Raises
    ------
    ValueError
        A value is missing, not a number, or out of range (20-100 per FTE,
        reserve 0-0.5, FTE >= 0), or a locality is listed twice. The message
        names the source, row (1-based, header not counted), column and value.

    Examples
    --------
    >>> t = localities_table([{"locality": "Harlow", "case_managers_fte": 2.5}])
    >>> t.select(["capacity", "reserve", "listable"]).to_pylist()
    [{'capacity': 125, 'reserve': 19, 'listable': 106}]
    """
    settings = StratifySettings() if settings is None else settings
    out: dict[str, list] = {f.name: [] for f in LOCALITIES_SCHEMA}
    seen: dict[str, int] = {}
    numbers = row_numbers or list(range(1, len(rows) + 1))
    for i, row in zip(numbers, rows, strict=True):
        where = f"{source}: row {i}"
        name = str(row.get("locality") or "").strip()
        if not name:
            raise ValueError(f"{where}, column locality: empty.")
        if name in seen:
            raise ValueError(
                f"{where}, column locality: {name!r} is listed twice (rows "
                f"{seen[name]} and {i})."
            )
        seen[name] = i
        text = {c: "" if row.get(c) is None else str(row.get(c)) for c in _COLUMNS}
        fte = _number(
            text["case_managers_fte"], where=where, column="case_managers_fte"
        )
        if fte is None or fte < 0:
            raise ValueError(
                f"{where}, column case_managers_fte: must be a number >= 0. "
                f"Got {text['case_managers_fte']!r}."
            )
        per = _number(
            text["caseload_per_fte"],
            where=where,
            column="caseload_per_fte",
            integer=True,
        )
        per = settings.caseload_per_fte if per is None else int(per)
        lo, hi = CASELOAD_RANGE
        if not lo <= per <= hi:
            raise ValueError(
                f"{where}, column caseload_per_fte: must be between {lo} and {hi} "
                "patients per full-time case manager. "
                f"Got {text['caseload_per_fte']!r}."
            )
        reserve = _number(text["reserve_share"], where=where, column="reserve_share")
        reserve = settings.reserve_share if reserve is None else reserve
        if not RESERVE_RANGE[0] <= reserve <= RESERVE_RANGE[1]:
            raise ValueError(
                f"{where}, column reserve_share: must be a share between "
                f"{RESERVE_RANGE[0]} and {RESERVE_RANGE[1]} (0-50 %). "
                f"Got {text['reserve_share']!r}."
            )
        # A small tolerance: 2.3 FTE * 50 is 114.99999999999999 in floating point.
        capacity = math.floor(fte * per + 1e-9)
        held = math.ceil(capacity * reserve - 1e-9)
        out["locality"].append(name)
        out["case_managers_fte"].append(fte)
        out["caseload_per_fte"].append(per)
        out["reserve_share"].append(float(reserve))
        out["capacity"].append(capacity)
        out["reserve"].append(held)
        out["listable"].append(capacity - held)
    return pa.table(out, schema=LOCALITIES_SCHEMA)


def read_localities(
    path: str | os.PathLike[str], *, settings: StratifySettings | None = None
) -> pa.Table:
    r"""Read and validate a localities CSV file.

    The file has a header row and the columns ``locality, case_managers_fte,
    caseload_per_fte, reserve_share``; the last two may be left empty (or left
    out) for the defaults (50 patients per FTE, 15 % reserve). Headers are
    matched ignoring case and surrounding spaces. See
    ``docs/localities-example.csv``.

    Parameters
    ----------
    path : path-like
        The CSV file.
    settings : StratifySettings, default=None
        Defaults for the optional columns.

    Returns
    -------
    pyarrow.Table
        :data:`LOCALITIES_SCHEMA` (see :func:`localities_table`).

    Raises
    ------
    SchemaError
        A required column is missing, or the file has no rows.
    ValueError
        A value is out of range; the message names file, row, column and value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "localities.csv"
    >>> lines = ["locality,case_managers_fte,caseload_per_fte,reserve_share",
    ...          "Harlow,2,60,0.1"]
    >>> _ = f.write_text("\n".join(lines))
    >>> read_localities(f)["listable"].to_pylist()
    [108]
    """
    file = Path(path)
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise SchemaError(f"{file.name}: the localities file is empty.")
        names = [h.strip().lower() for h in header]
        missing = [c for c in _COLUMNS[:2] if c not in names]
        if missing:
            raise SchemaError(
                f"{file.name}: the localities file has no {', '.join(missing)} "
                f"column. Expected {list(_COLUMNS)}; found {header}."
            )
        rows, numbers = [], []
        for number, cells in enumerate(reader, start=1):
            if any(c.strip() for c in cells):  # blank lines are skipped
                rows.append(dict(zip(names, cells, strict=False)))
                numbers.append(number)
    if not rows:
        raise SchemaError(f"{file.name}: the localities file has no rows.")
    return localities_table(
        rows, settings=settings, source=file.name, row_numbers=numbers
    )


def as_localities(
    localities: pa.Table | str | os.PathLike[str] | Sequence[dict[str, object]],
    settings: StratifySettings,
) -> pa.Table:
    """A validated localities table from a table, a CSV path or a list of dicts."""
    if isinstance(localities, pa.Table):
        if localities.schema.equals(LOCALITIES_SCHEMA):
            return localities
        return localities_table(localities.to_pylist(), settings=settings)
    if isinstance(localities, str | os.PathLike):
        return read_localities(localities, settings=settings)
    return localities_table(list(localities), settings=settings)
