"""The steps every source adapter (OMOP, Synthea) takes the same way.

An adapter maps source rows in DuckDB temporary relations that keep each source
row's 1-based number in ``_row``, tallies each relation into its
:class:`ReportParts`, and selects canonical rows from them. What does not depend
on the source lives here: checking the shared arguments, reading an inpatient
stay's urgency as the ``emergency`` flag, turning a relation into a
:class:`RawTable` in source order (or into an absent table when no row was
mapped), and the finish: the shared validation, the feature assessment and the
report carried on :class:`SourceTables`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

import duckdb

from riskstrat.sources._admission_method import METHOD_WORDS
from riskstrat.sources._date_checks import check_dates, date_notes, warn_dates
from riskstrat.sources._loader import RawTable, check_extract_date, validate_tables
from riskstrat.sources._mapping import (
    ReportParts,
    SourceTables,
    Status,
    assess_features,
    with_report,
)
from riskstrat.sources._reading import SourceView

__all__: list[str] = []

logger = logging.getLogger(__name__)

#: SQL for ``emergency`` from an admission's ``urgency`` rule: null when the
#: urgency is unknown, false when plain inpatient stays are elective by the
#: caller's word, true for any emergency evidence.
EMERGENCY_FROM_URGENCY = (
    "CASE WHEN urgency = 'urgency_unknown' THEN NULL "
    "WHEN urgency IN ('plain_inpatient_elective', 'elective_source_value', "
    "'elective_encounter_code') THEN false ELSE true END"
)


def method_words_sql(expr: str) -> str:
    """SQL: the admission-method group of a free-text source value, or NULL.

    Only the words of :data:`~riskstrat.sources._admission_method.METHOD_WORDS`
    count (case and surrounding spaces ignored); a number is never read as a
    CDS code here, because an OMOP or Synthea source value may be anything (an
    encounter id, an admission *source* code).

    Examples
    --------
    >>> method_words_sql("x")[:30]
    "CASE lower(trim(x)) WHEN 'elec"
    """
    whens = " ".join(
        "WHEN '" + w.replace("'", "''") + f"' THEN '{g}'"
        for w, g in METHOD_WORDS.items()
    )
    return f"CASE lower(trim({expr})) {whens} END"


def check_options(
    extract_date: dt.date | None, inpatient_urgency: str, *, caller: str
) -> None:
    """Refuse a bad ``extract_date`` or ``inpatient_urgency`` of ``caller``.

    Examples
    --------
    >>> check_options(None, "elective", caller="load_omop")
    >>> check_options(None, "emergency", caller="load_omop")
    Traceback (most recent call last):
    ...
    ValueError: The `inpatient_urgency` parameter of load_omop must be 'unknown' or 'elective'. Got 'emergency' instead.
    """  # noqa: E501
    check_extract_date(extract_date)
    if inpatient_urgency not in ("unknown", "elective"):
        raise ValueError(
            f"The `inpatient_urgency` parameter of {caller} must be 'unknown' or "
            f"'elective'. Got {inpatient_urgency!r} instead."
        )


def plain_inpatient_rule(elective: bool) -> str:
    """SQL literal: the urgency rule of an inpatient stay with no emergency evidence.

    Examples
    --------
    >>> plain_inpatient_rule(False)
    "'urgency_unknown'"
    """
    return "'plain_inpatient_elective'" if elective else "'urgency_unknown'"


def source_rows(con: duckdb.DuckDBPyConnection, view: SourceView, sql: str) -> RawTable:
    """The rows ``sql`` selects, in source order, as a raw table of ``view``.

    ``sql`` selects ``_row`` (the source row number, kept for rejects) and the
    canonical columns, and ``_k`` when one source row gives several canonical
    rows (they are ordered by it).
    """
    rel = con.sql(sql)
    extra = ["_k"] if "_k" in rel.columns else []  # repeats of one source row
    table = rel.order(", ".join(["_row", *extra])).to_arrow_table()
    return RawTable(
        table.drop_columns(["_row", *extra]), view.label, table["_row"].to_numpy()
    )


def mapped_rows(
    con: duckdb.DuckDBPyConnection, view: SourceView, parts: ReportParts, sql: str
) -> RawTable | None:
    """:func:`source_rows`, or None (an absent table) when no row of ``view`` mapped."""
    if parts.count(view.name, "mapped") == 0:
        return None
    return source_rows(con, view, sql)


def finish(
    raws: Mapping[str, RawTable | None],
    parts: ReportParts,
    *,
    source: str,
    extract_date: dt.date | None,
    drug_code_system: str,
    overrides: dict[str, tuple[Status, str]],
    notes: Sequence[str],
) -> SourceTables:
    """Validate the canonical tables and attach the mapping report.

    ``raws`` holds None for a table the source could not fill: it is absent.
    ``overrides`` and ``notes`` are what only the adapter knows (see
    :func:`assess_features`).
    """
    present = {name: raw for name, raw in raws.items() if raw is not None}
    tables = validate_tables(
        present, extract_date=extract_date, drug_code_system=drug_code_system
    )
    checks, reference = check_dates(tables)
    warn_dates(checks, source)
    notes = [*notes, *date_notes(checks, reference)]
    report = parts.report(source, assess_features(tables, overrides), notes)
    logger.info(
        "%s: %d patients, %d admissions, %d prescriptions mapped; not computable: %s",
        source,
        tables.patients.num_rows,
        tables.admissions.num_rows,
        tables.prescriptions.num_rows,
        ", ".join(report.not_computable) or "none",
    )
    return with_report(tables, report)
