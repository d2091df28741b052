"""``load_omop``: the canonical tables from an OMOP CDM 5.3 or 5.4 database.

This module opens the source and composes one module per OMOP table:
``_omop_person`` (person, death, observation_period), ``_omop_visits``
(visit_occurrence, visit_detail), ``_omop_conditions`` (condition_occurrence),
``_omop_drugs`` (drug_exposure) and ``_omop_observation`` (observation); the
concept ids they read are in ``_omop_concepts``, the report's wording in
``_omop_text``.

Mapping rules (``docs/sources.md`` has them as a table, with the reasons):

- ``person`` -> ``patients``: birth date from year/month/day (day missing: the
  15th; month missing: 1 July; ``birth_datetime`` used when the day or month is
  missing and it agrees on the year); ``gender_concept_id`` 8507 male, 8532
  female, anything else unknown; ``care_site_id`` as ``practice_id``; death
  date from ``death`` (the earliest per person); registration span from
  ``observation_period`` (earliest start, latest end).
- ``visit_occurrence`` -> ``admissions``: inpatient visits (9201 and its
  descendants) and emergency-room-and-inpatient visits (262). Emergency when
  the visit is 262, admitted from an emergency room (``admitted_from_concept_id``
  in 5.4, ``admitting_source_concept_id`` in 5.3: 9203, 8870 or 262), has an
  emergency-room ``visit_detail``, or follows an emergency-room visit (9203)
  that ended on the admission day or the day before. Otherwise urgency is
  unknown (null), unless the caller states that plain inpatient visits are
  elective. Emergency-room visits alone (9203) are attendances, not admissions.
- ``condition_occurrence`` -> diagnoses of those admissions, linked by
  ``visit_occurrence_id`` (or via ``visit_detail_id``). ICD-10 from the source
  concept (vocabulary ICD10/ICD10CM/ICD10GM), else from an ICD-10-shaped
  ``condition_source_value`` when no vocabulary says otherwise, else from the
  ICD-10 concept that ``Maps to`` the condition concept (only when it is unique).
  Primary: ``condition_status_concept_id`` 32901/32902/32903 or
  ``condition_type_concept_id`` 38000183/38000199/44786627; the rest secondary.
- ``drug_exposure`` -> ``prescriptions`` (RxNorm): the ingredient when
  ``concept_ancestor`` gives exactly one, otherwise the drug's own RxNorm code.
- ``observation`` -> ``residences``: SNOMED CT 160734000 (nursing home),
  394923006 (residential home), 248171000000108 (care home, type not given:
  residential home), from the observation date on.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Literal

import duckdb

from riskstrat.sources._adapter import check_options, finish
from riskstrat.sources._mapping import ReportParts, SourceTables, Status
from riskstrat.sources._omop_concepts import (
    EMERGENCY_ORIGINS,
    ICD10_VOCABULARIES,
    PRIMARY_CONDITION_STATUS,
    PRIMARY_CONDITION_TYPES,
    RESIDENCE_CODES,
)
from riskstrat.sources._omop_conditions import _conditions
from riskstrat.sources._omop_drugs import _prescriptions
from riskstrat.sources._omop_observation import _residences
from riskstrat.sources._omop_person import _patients
from riskstrat.sources._omop_text import REASONS, RULES
from riskstrat.sources._omop_visits import _admissions, _visit_kinds, _visits
from riskstrat.sources._reading import SourceView, TableSpec, open_tables, run
from riskstrat.sources._spells import SPELL_RULES

__all__ = [
    "EMERGENCY_ORIGINS",
    "ICD10_VOCABULARIES",
    "PRIMARY_CONDITION_STATUS",
    "PRIMARY_CONDITION_TYPES",
    "RESIDENCE_CODES",
    "load_omop",
]

SPECS = {
    "person": TableSpec(
        required=True, columns=("person_id", "gender_concept_id", "year_of_birth")
    ),
    "visit_occurrence": TableSpec(
        required=True,
        columns=(
            "visit_occurrence_id",
            "person_id",
            "visit_concept_id",
            "visit_start_date",
        ),
    ),
    "death": TableSpec(columns=("person_id", "death_date")),
    "observation_period": TableSpec(
        columns=(
            "person_id",
            "observation_period_start_date",
            "observation_period_end_date",
        )
    ),
    "visit_detail": TableSpec(
        columns=("visit_detail_id", "visit_occurrence_id", "visit_detail_concept_id")
    ),
    "condition_occurrence": TableSpec(columns=("person_id", "condition_concept_id")),
    "drug_exposure": TableSpec(
        columns=("person_id", "drug_concept_id", "drug_exposure_start_date")
    ),
    "observation": TableSpec(
        columns=("person_id", "observation_concept_id", "observation_date")
    ),
    "concept": TableSpec(
        columns=("concept_id", "concept_code", "vocabulary_id"), numbered=False
    ),
    "concept_relationship": TableSpec(
        columns=("concept_id_1", "concept_id_2", "relationship_id"), numbered=False
    ),
    "concept_ancestor": TableSpec(
        columns=("ancestor_concept_id", "descendant_concept_id"), numbered=False
    ),
    "cdm_source": TableSpec(numbered=False),
}


def load_omop(
    path: str | os.PathLike[str],
    *,
    schema: str | None = None,
    extract_date: dt.date | None = None,
    inpatient_urgency: Literal["unknown", "elective"] = "unknown",
    join_spells: bool = True,
    drug_issue_days: int = 28,
) -> SourceTables:
    r"""Read an OMOP CDM (5.3 or 5.4) database into validated canonical tables.

    Parameters
    ----------
    path : path-like
        A folder of OMOP tables as CSV or Parquet files (``PERSON.csv``,
        ``person.parquet``...; file names and headers in any case; CSV with
        comma or tab), or a DuckDB database file.
    schema : str, optional
        Schema of a DuckDB file that holds the CDM tables (default: the schema
        with the ``person`` table, ``main`` if several).
    extract_date : datetime.date, optional
        When the data were extracted; later rows are rejected.
    inpatient_urgency : {"unknown", "elective"}, default="unknown"
        Urgency of an inpatient visit with no emergency evidence. ``"unknown"``
        leaves ``emergency`` empty (counted apart, never guessed). Use
        ``"elective"`` only when your ETL codes every emergency admission as 262
        or with an emergency-room origin (as NHS CDS/SUS mappings do): it is a
        statement about your source, recorded in the mapping report.
    join_spells : bool, default=True
        Join contiguous or overlapping inpatient visits of one person (the next
        starting on or before the discharge) into one spell, as the contract
        counts admissions; ``False`` keeps every visit an admission.
    drug_issue_days : int, default=28
        A drug exposure longer than this many days (``drug_exposure_end_date``,
        else ``days_supply``) becomes repeat issues, one every
        ``drug_issue_days`` from its start (a 28-day repeat, as in UK primary
        care), none after ``extract_date``.

    Returns
    -------
    SourceTables
        The canonical tables, validated by the same rules as :func:`load_tables`
        (``rejects``, ``counts``), with ``mapping``: a :class:`MappingReport`
        of rows read, mapped and unmapped per OMOP table, and the feature
        groups this source cannot support. ``nominations`` and ``enrolments``
        are always absent; ``prescriptions`` and ``residences`` are absent when
        no row could be mapped to them.

    Raises
    ------
    SchemaError
        ``person`` or ``visit_occurrence`` is missing, or a table lacks a
        column the mapping needs (the message lists expected and found).

    See Also
    --------
    load_source : the dispatcher the CLI uses.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "PERSON.csv").write_text(
    ...     "PERSON_ID,GENDER_CONCEPT_ID,YEAR_OF_BIRTH\n1,8532,1940\n")
    >>> _ = (folder / "visit_occurrence.csv").write_text(
    ...     "visit_occurrence_id,person_id,visit_concept_id,visit_start_date\n"
    ...     "10,1,262,2020-03-01\n11,1,9202,2020-04-01\n")
    >>> t = load_omop(folder)
    >>> t.patients["birth_date"].to_pylist()
    [datetime.date(1940, 7, 1)]
    >>> t.admissions["emergency"].to_pylist()
    [True]
    >>> t.mapping.tables.select(["source_table", "read", "mapped"]).to_pylist()[-1]
    {'source_table': 'visit_occurrence', 'read': 2, 'mapped': 1}
    """
    check_options(extract_date, inpatient_urgency, caller="load_omop")
    if not isinstance(drug_issue_days, int) or drug_issue_days < 1:
        raise ValueError(
            "The `drug_issue_days` parameter of load_omop must be an int >= 1. "
            f"Got {drug_issue_days!r} instead."
        )
    con = duckdb.connect()
    try:
        views = open_tables(con, path, SPECS, what="OMOP CDM", schema=schema)
        return _map(
            con,
            views,
            extract_date,
            inpatient_urgency,
            join_spells=join_spells,
            drug_issue_days=drug_issue_days,
        )
    finally:
        con.close()


def _map(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, SourceView],
    extract_date: dt.date | None,
    inpatient_urgency: str,
    *,
    join_spells: bool = True,
    drug_issue_days: int = 28,
) -> SourceTables:
    parts = ReportParts(rules=RULES | SPELL_RULES, reasons=REASONS)
    notes = _notes(con, views)
    _visit_kinds(con, "concept_ancestor" in views)
    _visits(con, views, elective=inpatient_urgency == "elective")
    _conditions(con, views)
    raws = {
        "patients": _patients(con, views, parts),
        "admissions": _admissions(con, views, parts, join_spells),
        "prescriptions": _prescriptions(
            con, views, parts, issue_days=drug_issue_days, extract_date=extract_date
        ),
        "residences": _residences(con, views, parts),
    }
    return finish(
        raws,
        parts,
        source="omop",
        extract_date=extract_date,
        drug_code_system="rxnorm",
        overrides=_overrides(views, parts, "concept" in views),
        notes=notes,
    )


def _notes(con: duckdb.DuckDBPyConnection, views: dict[str, SourceView]) -> list[str]:
    visits = views["visit_occurrence"]
    version = None
    if "cdm_source" in views and views["cdm_source"].has("cdm_version"):
        row = run(con, "SELECT max(cdm_version) FROM src_cdm_source")[0]
        version = row[0] if row else None
    if version is None:
        if visits.has("admitted_from_concept_id"):
            version = "5.4 (from column names)"
        elif visits.has("admitting_source_concept_id"):
            version = "5.3 (from column names)"
    vocab = [
        v for v in ("concept", "concept_relationship", "concept_ancestor") if v in views
    ]
    absent = [n for n, s in SPECS.items() if n not in views and s.numbered]
    notes = [
        f"CDM version: {version or 'unknown'}",
        f"vocabulary tables: {', '.join(vocab) or 'none'}",
        "emergency-room visits alone (9203) are attendances, not admissions",
    ]
    if absent:
        notes.append(f"OMOP tables not supplied: {', '.join(absent)}")
    return notes


def _overrides(
    views: dict[str, SourceView], parts: ReportParts, has_concept: bool
) -> dict[str, tuple[Status, str]]:
    """What only the adapter knows about the feature groups."""
    out: dict[str, tuple[Status, str]] = {}
    if "condition_occurrence" not in views:
        for group in ("frailty_diagnoses", "comorbidities"):
            out[group] = ("not_computable", "no condition_occurrence table")
    else:
        mapped = parts.count("condition_occurrence", "mapped")
        lost = parts.reason_rows("condition_occurrence", "no_icd10") + (
            parts.reason_rows("condition_occurrence", "ambiguous_icd10")
        )
        hint = "" if has_concept else "; supply concept and concept_relationship to map"
        if lost and not mapped:
            for group in ("frailty_diagnoses", "comorbidities"):
                out[group] = (
                    "not_computable",
                    f"none of the {lost} conditions of admissions has an ICD-10 "
                    f"code (SNOMED CT or other codes only){hint}",
                )
        elif lost:
            for group in ("frailty_diagnoses", "comorbidities"):
                out[group] = (
                    "partial",
                    f"{lost} of {lost + mapped} conditions of admissions have no "
                    f"ICD-10 code{hint}",
                )
    read = parts.count("drug_exposure", "read")
    lost = parts.count("drug_exposure", "unmapped")
    if "drug_exposure" not in views:
        out["drugs"] = ("not_computable", "no drug_exposure table")
    elif read and lost == read:
        out["drugs"] = (
            "not_computable",
            f"none of the {read} drug_exposure rows maps to RxNorm",
        )
    elif lost:
        out["drugs"] = (
            "partial",
            f"{lost} of {read} drug_exposure rows do not map to RxNorm (see unmapped)",
        )
    if "observation" not in views:
        out["residence"] = ("not_computable", "no observation table")
    elif parts.count("observation", "mapped") == 0:
        out["residence"] = (
            "not_computable",
            "no residence codes in observation (SNOMED CT "
            f"{', '.join(RESIDENCE_CODES)})",
        )
    if "death" not in views:
        out["death"] = ("not_computable", "no death table")
    elif parts.count("death", "read") == 0:
        out["death"] = ("not_computable", "the death table is empty")
    out["nominations"] = ("not_computable", "OMOP has no clinician nominations")
    return out
