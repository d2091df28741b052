"""SQL expressions (DuckDB) that read source columns of any storage type.

The same source column can arrive as text (CSV), as a native type (Parquet,
DuckDB) or not at all (an optional column an export left out). These helpers
return SQL text that gives one answer in every case: identifiers as BIGINT,
patient ids as text, dates as ``YYYY-MM-DD`` text. A date that cannot be read
is passed on as its original text, so the shared validation rejects the row as
``unparseable`` and shows the value, rather than it being lost here.
"""

from __future__ import annotations

from riskstrat.sources._reading import SourceView

__all__: list[str] = []

_DATE_TYPES = ("DATE",)
_TIMESTAMP_PREFIX = "TIMESTAMP"


def col(view: SourceView, *names: str, alias: str = "t") -> str:
    """The first of ``names`` that ``view`` has, qualified; ``NULL`` if none."""
    for name in names:
        if view.has(name):
            return f'{alias}."{name}"'
    return "NULL"


def coalesce(view: SourceView, *names: str, alias: str = "t", cast: str = "") -> str:
    """``COALESCE`` of every column of ``names`` that ``view`` has."""
    present = [f'{alias}."{n}"' for n in names if view.has(n)]
    if cast:
        present = [f"TRY_CAST({p} AS {cast})" for p in present]
    if not present:
        return "NULL"
    return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"


def ident(expr: str) -> str:
    """A concept or row identifier as BIGINT (null when not a whole number)."""
    return f"TRY_CAST({expr} AS BIGINT)"


def text(expr: str) -> str:
    """Trimmed text; empty is null."""
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def person_id(expr: str) -> str:
    """A person identifier as text: ``12`` for 12, 12.0 or '12'; other text as is."""
    return f"COALESCE(CAST(TRY_CAST({expr} AS BIGINT) AS VARCHAR), {text(expr)})"


def date_text(view: SourceView, name: str, alias: str = "t") -> str:
    """``YYYY-MM-DD`` text of a date column (date, timestamp or text).

    Text in ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm[:ss]``, ``YYYY-MM-DDThh:mm...``
    or ``YYYYMMDD`` is reduced to the date; other text is passed on unchanged.
    """
    if not view.has(name):
        return "CAST(NULL AS VARCHAR)"
    c = f'{alias}."{name}"'
    kind = view.type_of(name)
    if kind in _DATE_TYPES or kind.startswith(_TIMESTAMP_PREFIX):
        return f"strftime(CAST({c} AS DATE), '%Y-%m-%d')"
    t = text(c)
    return (
        f"CASE WHEN regexp_full_match({t}, '\\d{{8}}') "
        f"THEN substr({t}, 1, 4) || '-' || substr({t}, 5, 2) || '-' "
        f"|| substr({t}, 7, 2) "
        f"WHEN regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}([ T].*)?') "
        f"THEN left({t}, 10) ELSE {t} END"
    )


def time_text(view: SourceView, name: str, alias: str = "t") -> str:
    """``hh:mm:ss`` of a timestamp column; null for a date or for midnight.

    Midnight is how most exports write "time unknown", so it is read as unknown.
    """
    if not view.has(name):
        return "CAST(NULL AS VARCHAR)"
    c = f'{alias}."{name}"'
    kind = view.type_of(name)
    if kind.startswith(_TIMESTAMP_PREFIX):
        return f"NULLIF(strftime(CAST({c} AS TIMESTAMP), '%H:%M:%S'), '00:00:00')"
    if kind in _DATE_TYPES or kind != "VARCHAR":
        return "CAST(NULL AS VARCHAR)"
    found = (
        f"NULLIF(regexp_extract({text(c)}, "
        f"'^\\d{{4}}-?\\d{{2}}-?\\d{{2}}[ T](\\d{{1,2}}:\\d{{2}}(:\\d{{2}})?)', 1), '')"
    )
    return f"CASE WHEN {found} IN ('00:00', '00:00:00') THEN NULL ELSE {found} END"


def as_date(expr: str) -> str:
    """A ``YYYY-MM-DD`` text expression as DATE (null when it is not a date)."""
    return f"TRY_CAST({expr} AS DATE)"


def in_list(values) -> str:
    """``(v1, v2, ...)`` for SQL ``IN``; text values are quoted."""
    parts = []
    for v in values:
        if isinstance(v, str):
            parts.append("'" + v.replace("'", "''") + "'")
        else:
            parts.append(str(int(v)))
    return "(" + ", ".join(parts) + ")"
