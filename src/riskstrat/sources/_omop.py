"""``load_omop``: the canonical tables from an OMOP CDM 5.3 or 5.4 database.

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

from riskstrat.sources._adapter import (
    EMERGENCY_FROM_URGENCY,
    check_options,
    finish,
    mapped_rows,
    method_words_sql,
    plain_inpatient_rule,
    source_rows,
)
from riskstrat.sources._expr import (
    as_date,
    coalesce,
    col,
    date_text,
    ident,
    in_list,
    person_id,
    text,
    time_text,
)
from riskstrat.sources._loader import RawTable
from riskstrat.sources._mapping import ReportParts, SourceTables, Status
from riskstrat.sources._omop_text import REASONS, RULES
from riskstrat.sources._reading import SourceView, TableSpec, open_tables, run
from riskstrat.sources._spells import SPELL_RULES, create_spells, spell_rule_sql

__all__ = [
    "EMERGENCY_ORIGINS",
    "ICD10_VOCABULARIES",
    "PRIMARY_CONDITION_STATUS",
    "PRIMARY_CONDITION_TYPES",
    "RESIDENCE_CODES",
    "load_omop",
]

#: ``admitted_from`` / ``admitting_source`` concepts meaning "from an emergency
#: room": ER visit (9203, Visit domain in 5.4), Emergency Room - Hospital
#: (8870, Place of Service in 5.3), ER and inpatient visit (262).
EMERGENCY_ORIGINS = (9203, 8870, 262)
#: ``drug_type_concept_id`` of a dose given in hospital, not a prescription
#: issued: Inpatient administration (38000180), EHR administration record (32818).
ADMINISTRATION_TYPES = (38000180, 32818)
ICD10_VOCABULARIES = ("ICD10", "ICD10CM", "ICD10GM")
RXNORM_VOCABULARIES = ("RxNorm", "RxNorm Extension")
#: Primary diagnosis, primary admission diagnosis, primary discharge diagnosis.
PRIMARY_CONDITION_STATUS = (32902, 32901, 32903)
#: Inpatient detail - primary, Inpatient header - primary, Primary Condition.
PRIMARY_CONDITION_TYPES = (38000183, 38000199, 44786627)
#: SNOMED CT findings that say where a person lives.
RESIDENCE_CODES = {
    "160734000": "nursing_home",
    "394923006": "residential_home",
    "248171000000108": "residential_home",
}
#: A source value read as ICD-10: three characters, then a dot and up to four,
#: or without a dot one more digit or X. Five characters with no dot (Read v2
#: ``C10E7``, ``G3011``) are not ICD-10 here: they are ambiguous.
_ICD10_SHAPE = r"[A-Za-z][0-9][0-9A-Za-z](\.[0-9A-Za-z]{1,4}|[0-9Xx])?"

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


# -- visits and admissions -----------------------------------------------------


def _visit_kinds(con: duckdb.DuckDBPyConnection, has_ancestor: bool) -> None:
    """``visit_kind``: visit concepts that are ER+inpatient, inpatient or ER."""
    expanded = "SELECT concept_id, kind, prio FROM base"
    if has_ancestor:
        expanded += (
            " UNION ALL SELECT TRY_CAST(a.descendant_concept_id AS BIGINT), b.kind, "
            "b.prio FROM src_concept_ancestor a JOIN base b "
            "ON TRY_CAST(a.ancestor_concept_id AS BIGINT) = b.concept_id"
        )
    run(
        con,
        f"""
        CREATE TEMP TABLE visit_kind AS
        WITH base(concept_id, kind, prio) AS (
            VALUES (262, 'er_inpatient', 1), (9201, 'inpatient', 2), (9203, 'er', 3)
        ), expanded AS ({expanded})
        SELECT concept_id, arg_min(kind, prio) AS kind
        FROM expanded WHERE concept_id IS NOT NULL GROUP BY concept_id
    """,
    )


def _visits(
    con: duckdb.DuckDBPyConnection, views: dict[str, SourceView], *, elective: bool
) -> None:
    """``visits``: every visit with its kind; ``adm``: admissions with urgency."""
    v = views["visit_occurrence"]
    run(
        con,
        f"""
        CREATE TEMP TABLE visits AS
        SELECT t._row, {ident(col(v, "visit_occurrence_id"))} AS visit_id,
            {person_id(col(v, "person_id"))} AS patient_id,
            CASE WHEN k.kind IS NOT NULL THEN k.kind
                 WHEN coalesce({ident(col(v, "visit_concept_id"))}, 0) = 0
                 THEN 'no_concept' ELSE 'other' END AS kind,
            {date_text(v, "visit_start_date")} AS start_text,
            {date_text(v, "visit_end_date")} AS end_text,
            {time_text(v, "visit_start_datetime")} AS start_time,
            {_origin(v)} AS origin,
            {_method_group(v)} AS method_group
        FROM src_visit_occurrence t
        LEFT JOIN visit_kind k ON k.concept_id = {ident(col(v, "visit_concept_id"))}
    """,
    )
    er_detail = "SELECT NULL::BIGINT AS visit_id WHERE false"
    if "visit_detail" in views:
        d = views["visit_detail"]
        join, is_er = _er_segment(d)
        er_detail = f"""
            SELECT DISTINCT {ident(col(d, "visit_occurrence_id"))} AS visit_id
            FROM src_visit_detail t {join}
            WHERE {is_er}"""
    plain = plain_inpatient_rule(elective)
    run(
        con,
        f"""
        CREATE TEMP TABLE er_before AS
        SELECT i.visit_id AS admission_id, e.visit_id AS er_id
        FROM visits i JOIN visits e
          ON e.patient_id = i.patient_id AND e.kind = 'er'
         AND {as_date("e.start_text")} <= {as_date("i.start_text")}
         AND {as_date("coalesce(e.end_text, e.start_text)")}
             BETWEEN {as_date("i.start_text")} - 1 AND {as_date("i.start_text")}
        WHERE i.kind = 'inpatient'
    """,
    )
    # The admission each ER visit led to (the earliest, if it led to several):
    # its diagnoses are the admission's.
    run(
        con,
        f"""
        CREATE TEMP TABLE er_to_adm AS
        SELECT b.er_id, arg_min(b.admission_id, ({as_date("i.start_text")}, i._row))
            AS admission_id
        FROM er_before b JOIN visits i ON i.visit_id = b.admission_id
        GROUP BY b.er_id
    """,
    )
    run(
        con,
        f"""
        CREATE TEMP TABLE adm AS
        SELECT *, {EMERGENCY_FROM_URGENCY} AS emergency
        FROM (
            SELECT v.*,
                CASE WHEN v.kind = 'er_inpatient' THEN 'er_and_inpatient_visit'
                     WHEN v.origin IN {in_list(EMERGENCY_ORIGINS)}
                     THEN 'admitted_from_er'
                     WHEN v.visit_id IN (SELECT visit_id FROM ({er_detail}))
                     THEN 'er_visit_detail'
                     WHEN v.visit_id IN (SELECT admission_id FROM er_before)
                     THEN 'after_er_visit'
                     WHEN v.method_group = 'emergency' THEN 'emergency_source_value'
                     WHEN v.method_group = 'elective' THEN 'elective_source_value'
                     ELSE {plain} END AS urgency
            FROM visits v WHERE v.kind IN ('inpatient', 'er_inpatient')
        )
    """,
    )


def _method_group(view: SourceView) -> str:
    """SQL: the admission-method group a visit's source values name in words.

    From ``visit_source_value`` or ``admitted_from_source_value``
    (``admitting_source_value`` in 5.3), the first that names one.
    """
    values = [
        text(col(view, name))
        for name in (
            "visit_source_value",
            "admitted_from_source_value",
            "admitting_source_value",
        )
        if view.has(name)
    ]
    if not values:
        return "NULL::VARCHAR"
    return "coalesce(" + ", ".join(method_words_sql(v) for v in values) + ")"


def _origin(view: SourceView) -> str:
    """SQL: where a visit (or visit detail) was admitted from (5.4 or 5.3 name)."""
    return coalesce(
        view, "admitted_from_concept_id", "admitting_source_concept_id", cast="BIGINT"
    )


def _er_segment(d: SourceView) -> tuple[str, str]:
    """SQL join and condition: visit_detail row ``t`` is an emergency-room segment.

    Its concept is an ER or ER-and-inpatient visit (or a descendant), or
    Emergency Room - Hospital (8870), or it was admitted from an emergency room.
    """
    concept = ident(col(d, "visit_detail_concept_id"))
    join = f"LEFT JOIN visit_kind k ON k.concept_id = {concept}"
    condition = (
        f"(k.kind IN ('er', 'er_inpatient') OR {concept} = 8870 "
        f"OR {_origin(d)} IN {in_list(EMERGENCY_ORIGINS)})"
    )
    return join, condition


def _admissions(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, SourceView],
    parts: ReportParts,
    join_spells: bool = True,
) -> RawTable:
    v = views["visit_occurrence"]
    create_spells(con, "adm", join=join_spells)
    run(
        con,
        f"""
        CREATE TEMP VIEW visit_tally AS
        SELECT v._row,
            CASE WHEN a._row IS NOT NULL THEN NULL
                 WHEN v.kind = 'er' AND v.visit_id IN (SELECT er_id FROM er_before)
                 THEN 'er_visit_before_admission'
                 WHEN v.kind = 'er' THEN 'er_visit_not_admitted'
                 WHEN v.kind = 'no_concept' THEN 'no_visit_concept'
                 ELSE 'not_inpatient' END AS reason,
            a.urgency, {spell_rule_sql(join_spells)} AS spell
        FROM visits v LEFT JOIN adm a ON a._row = v._row
        LEFT JOIN spells sp ON sp._row = a._row
    """,
    )
    parts.tally(
        con,
        "visit_tally",
        v,
        canonical_table="admissions",
        aspects=["urgency", "spell"],
    )
    if "visit_detail" in views:
        _tally_visit_detail(con, views["visit_detail"], parts)
    if "condition_occurrence" in views:
        parts.tally(
            con,
            "cond",
            views["condition_occurrence"],
            canonical_table="admissions",
            aspects=["icd10", "visit"],
            reasons=_condition_reasons(con, "concept" in views),
        )
    return source_rows(
        con,
        v,
        """
        WITH sp AS (
            SELECT a.*, s.spell_row FROM adm a JOIN spells s ON s._row = a._row
        ), ends AS (
            SELECT spell_row, CASE WHEN bool_or(end_text IS NULL) THEN NULL
                ELSE max(end_text) END AS end_text
            FROM sp GROUP BY spell_row
        ), prim AS (
            SELECT visit_id, first(code ORDER BY start NULLS LAST, _row) AS code
            FROM cond WHERE reason IS NULL AND is_primary GROUP BY visit_id
        ), first_stay AS (
            SELECT sp.*, p.code AS primary_code FROM sp
            LEFT JOIN prim p ON p.visit_id = sp.visit_id
            WHERE sp._row = sp.spell_row
        ), sec AS (
            SELECT f.spell_row, list_sort(list(DISTINCT c.code)) AS codes
            FROM cond c JOIN sp ON sp.visit_id = c.visit_id
            JOIN first_stay f ON f.spell_row = sp.spell_row
            WHERE c.reason IS NULL
              AND (f.primary_code IS NULL OR c.code <> f.primary_code)
            GROUP BY f.spell_row
        )
        SELECT a._row, a.patient_id, a.start_text AS admission_date,
            e.end_text AS discharge_date, a.emergency,
            a.primary_code AS primary_diagnosis,
            coalesce(s.codes, []::VARCHAR[]) AS secondary_diagnoses,
            a.start_time AS admission_time,
            'icd10' AS diagnosis_code_system
        FROM first_stay a JOIN ends e ON e.spell_row = a.spell_row
        LEFT JOIN sec s ON s.spell_row = a.spell_row
    """,
    )


def _tally_visit_detail(
    con: duckdb.DuckDBPyConnection, d: SourceView, parts: ReportParts
) -> None:
    join, is_er = _er_segment(d)
    run(
        con,
        f"""
        CREATE TEMP VIEW detail_tally AS
        SELECT t._row,
            CASE WHEN a.visit_id IS NULL THEN 'visit_not_admission' END AS reason,
            CASE WHEN {is_er} THEN 'er_segment' ELSE 'other_segment' END AS segment
        FROM src_visit_detail t
        {join}
        LEFT JOIN (SELECT DISTINCT visit_id FROM adm) a
            ON a.visit_id = {ident(col(d, "visit_occurrence_id"))}
    """,
    )
    parts.tally(
        con, "detail_tally", d, canonical_table="admissions", aspects=["segment"]
    )


# -- conditions ----------------------------------------------------------------


def _conditions(con: duckdb.DuckDBPyConnection, views: dict[str, SourceView]) -> None:
    """``cond``: one row per condition with its ICD-10 code or unmapped reason."""
    if "condition_occurrence" not in views:
        run(
            con,
            "CREATE TEMP TABLE cond (_row BIGINT, visit_id BIGINT, code VARCHAR, "
            "is_primary BOOLEAN, start DATE, reason VARCHAR, icd10 VARCHAR, "
            "visit VARCHAR)",
        )
        return
    c = views["condition_occurrence"]
    visit = ident(col(c, "visit_occurrence_id"))
    join_detail = ""
    if "visit_detail" in views and c.has("visit_detail_id"):
        d = views["visit_detail"]
        join_detail = (
            "LEFT JOIN (SELECT DISTINCT "
            f"{ident(col(d, 'visit_detail_id', alias='d'))} AS detail_id, "
            f"{ident(col(d, 'visit_occurrence_id', alias='d'))} AS visit_id "
            f"FROM src_visit_detail d) vd ON vd.detail_id = "
            f"{ident(col(c, 'visit_detail_id'))}"
        )
        visit = f"coalesce({visit}, vd.visit_id)"
    primary = (
        f"coalesce({ident(col(c, 'condition_status_concept_id'))} IN "
        f"{in_list(PRIMARY_CONDITION_STATUS)} OR "
        f"{ident(col(c, 'condition_type_concept_id'))} IN "
        f"{in_list(PRIMARY_CONDITION_TYPES)}, false)"
    )
    norm = "upper(replace(replace({x}, '.', ''), ' ', ''))"
    has_concept = "concept" in views
    src_vocab = "sc.vocabulary_id" if has_concept else "NULL"
    src_code = "sc.concept_code" if has_concept else "NULL"
    cond_vocab = "cc.vocabulary_id" if has_concept else "NULL"
    joins = ""
    if has_concept:
        joins += (
            "LEFT JOIN src_concept sc ON TRY_CAST(sc.concept_id AS BIGINT) = "
            "s.source_concept_id AND s.source_concept_id <> 0 "
            "LEFT JOIN src_concept cc ON TRY_CAST(cc.concept_id AS BIGINT) = "
            "s.concept_id AND s.concept_id <> 0 "
        )
    maps = "SELECT NULL::BIGINT AS target, []::VARCHAR[] AS codes WHERE false"
    if has_concept and "concept_relationship" in views:
        icd = in_list(ICD10_VOCABULARIES)
        maps = f"""
            SELECT target, list(DISTINCT code) AS codes FROM (
                SELECT TRY_CAST(r.concept_id_2 AS BIGINT) AS target,
                    {norm.format(x="i.concept_code")} AS code
                FROM src_concept_relationship r JOIN src_concept i
                  ON TRY_CAST(i.concept_id AS BIGINT)
                     = TRY_CAST(r.concept_id_1 AS BIGINT)
                WHERE r.relationship_id = 'Maps to' AND i.vocabulary_id IN {icd}
                UNION
                SELECT TRY_CAST(r.concept_id_1 AS BIGINT),
                    {norm.format(x="i.concept_code")}
                FROM src_concept_relationship r JOIN src_concept i
                  ON TRY_CAST(i.concept_id AS BIGINT)
                     = TRY_CAST(r.concept_id_2 AS BIGINT)
                WHERE r.relationship_id = 'Mapped from' AND i.vocabulary_id IN {icd}
            ) GROUP BY target"""
    icd = in_list(ICD10_VOCABULARIES)
    run(
        con,
        f"""
        CREATE TEMP TABLE cond AS
        WITH s0 AS (
            SELECT t.*, {visit} AS own_visit_id
            FROM src_condition_occurrence t {join_detail}
        ), s AS (
            SELECT t._row, coalesce(ea.admission_id, t.own_visit_id) AS visit_id,
                CASE WHEN ea.admission_id IS NOT NULL THEN 'from_er_visit'
                     ELSE 'own_visit' END AS visit,
                {ident(col(c, "condition_concept_id"))} AS concept_id,
                {ident(col(c, "condition_source_concept_id"))} AS source_concept_id,
                {text(col(c, "condition_source_value"))} AS source_value,
                {primary} AS is_primary,
                {as_date(date_text(c, "condition_start_date"))} AS start
            FROM s0 t LEFT JOIN er_to_adm ea ON ea.er_id = t.own_visit_id
        ), m AS ({maps}), coded AS (
            SELECT s.*, {cond_vocab} AS vocabulary, m.codes,
                CASE WHEN {src_vocab} IN {icd} THEN 'icd10_source_concept'
                     WHEN {src_vocab} IS NULL
                          AND regexp_full_match(s.source_value, '{_ICD10_SHAPE}')
                     THEN 'icd10_source_value'
                     WHEN len(m.codes) = 1 THEN 'icd10_maps_to'
                END AS icd10,
                CASE WHEN {src_vocab} IN {icd} THEN {norm.format(x=src_code)}
                     WHEN {src_vocab} IS NULL
                          AND regexp_full_match(s.source_value, '{_ICD10_SHAPE}')
                     THEN {norm.format(x="s.source_value")}
                     WHEN len(m.codes) = 1 THEN m.codes[1]
                END AS code
            FROM s {joins} LEFT JOIN m ON m.target = s.concept_id
        )
        SELECT coded.*,
            CASE WHEN coded.visit_id IS NULL THEN 'no_visit'
                 WHEN a.visit_id IS NOT NULL AND coded.code IS NOT NULL THEN NULL
                 WHEN a.visit_id IS NOT NULL AND len(coded.codes) > 1
                 THEN 'ambiguous_icd10'
                 WHEN a.visit_id IS NOT NULL THEN 'no_icd10'
                 WHEN coded.visit_id IN (SELECT visit_id FROM visits)
                 THEN 'visit_not_admission'
                 ELSE 'unknown_visit' END AS reason
        FROM coded
        LEFT JOIN (SELECT DISTINCT visit_id FROM adm) a ON a.visit_id = coded.visit_id
    """,
    )


def _condition_reasons(con: duckdb.DuckDBPyConnection, has_concept: bool) -> dict:
    """Reason texts, with the vocabularies of conditions that have no ICD-10."""
    rows = run(
        con,
        "SELECT coalesce(vocabulary, 'unknown vocabulary'), count(*) FROM cond "
        "WHERE reason = 'no_icd10' GROUP BY 1 ORDER BY 2 DESC",
    )
    found = ", ".join(f"{v}: {n}" for v, n in rows)
    where = "" if has_concept else "; no vocabulary tables were supplied"
    out = dict(REASONS)
    out["no_icd10"] = (
        f"{REASONS['no_icd10']} (condition concepts by vocabulary: {found}{where})"
    )
    return out


# -- patients ------------------------------------------------------------------


def _patients(
    con: duckdb.DuckDBPyConnection, views: dict[str, SourceView], parts: ReportParts
) -> RawTable:
    p = views["person"]
    y = ident(col(p, "year_of_birth"))
    m = ident(col(p, "month_of_birth"))
    d = ident(col(p, "day_of_birth"))
    bdt = date_text(p, "birth_datetime")
    g = ident(col(p, "gender_concept_id"))
    run(
        con,
        f"""
        CREATE TEMP TABLE persons AS
        SELECT t._row, {person_id(col(p, "person_id"))} AS patient_id,
            CASE WHEN {y} IS NULL THEN 'year_missing_or_unreadable'
                 WHEN {m} IS NOT NULL AND {d} IS NOT NULL THEN 'year_month_day'
                 WHEN {bdt} IS NOT NULL AND left({bdt}, 4) = printf('%04d', {y})
                 THEN 'birth_datetime'
                 WHEN {m} IS NOT NULL THEN 'mid_month'
                 ELSE 'mid_year' END AS birth_date_rule,
            CASE WHEN {y} IS NULL THEN {text(col(p, "year_of_birth"))}
                 WHEN {m} IS NOT NULL AND {d} IS NOT NULL
                 THEN printf('%04d-%02d-%02d', {y}, {m}, {d})
                 WHEN {bdt} IS NOT NULL AND left({bdt}, 4) = printf('%04d', {y})
                 THEN {bdt}
                 WHEN {m} IS NOT NULL THEN printf('%04d-%02d-15', {y}, {m})
                 ELSE printf('%04d-07-01', {y}) END AS birth_date,
            CASE {g} WHEN 8507 THEN 'gender_8507' WHEN 8532 THEN 'gender_8532'
                 ELSE 'gender_other' END AS sex_rule,
            CASE {g} WHEN 8507 THEN 'male' WHEN 8532 THEN 'female'
                 ELSE 'unknown' END AS sex,
            {text(col(p, "care_site_id"))} AS practice_id,
            NULL::VARCHAR AS reason
        FROM src_person t
    """,
    )
    parts.tally(
        con,
        "persons",
        p,
        canonical_table="patients",
        aspects=["birth_date_rule", "sex_rule"],
    )
    death = (
        "SELECT NULL::VARCHAR AS patient_id, NULL::VARCHAR AS death_date WHERE false"
    )
    if "death" in views:
        dv = views["death"]
        dtext = date_text(dv, "death_date")
        run(
            con,
            f"""
            CREATE TEMP TABLE deaths AS
            SELECT _row, patient_id, dtext,
                CASE WHEN {_unknown_person("patient_id")} THEN 'unknown_person'
                     WHEN dtext IS NULL THEN 'missing_death_date'
                     WHEN k > 1 THEN 'duplicate_death' END AS reason,
                'earliest_death_date' AS death
            FROM (
                SELECT t._row, {person_id(col(dv, "person_id"))} AS patient_id,
                    {dtext} AS dtext,
                    row_number() OVER (
                        PARTITION BY {person_id(col(dv, "person_id"))}
                        ORDER BY ({dtext}) IS NULL, {as_date(dtext)} NULLS LAST, t._row
                    ) AS k
                FROM src_death t
            )
        """,
        )
        parts.tally(con, "deaths", dv, canonical_table="patients", aspects=["death"])
        death = (
            "SELECT patient_id, dtext AS death_date FROM deaths WHERE reason IS NULL"
        )
    periods = (
        "SELECT NULL::VARCHAR AS patient_id, NULL::DATE AS first_start, "
        "NULL::DATE AS last_end WHERE false"
    )
    if "observation_period" in views:
        o = views["observation_period"]
        start = as_date(date_text(o, "observation_period_start_date"))
        end = as_date(date_text(o, "observation_period_end_date"))
        run(
            con,
            f"""
            CREATE TEMP TABLE periods AS
            SELECT t._row, {person_id(col(o, "person_id"))} AS patient_id,
                {start} AS start, {end} AS stop,
                CASE WHEN {_unknown_person(person_id(col(o, "person_id")))}
                     THEN 'unknown_person'
                     WHEN {start} IS NULL OR {end} IS NULL THEN 'unreadable_period'
                END AS reason,
                'registration_span' AS registration
            FROM src_observation_period t
        """,
        )
        parts.tally(
            con, "periods", o, canonical_table="patients", aspects=["registration"]
        )
        periods = (
            "SELECT patient_id, min(start) AS first_start, max(stop) AS last_end "
            "FROM periods WHERE reason IS NULL GROUP BY patient_id"
        )
    return source_rows(
        con,
        p,
        f"""
        SELECT p._row, p.patient_id, p.birth_date, p.sex,
            NULL::VARCHAR AS locality, p.practice_id,
            NULL::INTEGER AS deprivation_decile, d.death_date,
            strftime(r.first_start, '%Y-%m-%d') AS registration_date,
            strftime(r.last_end, '%Y-%m-%d') AS deregistration_date
        FROM persons p
        LEFT JOIN ({death}) d ON d.patient_id = p.patient_id
        LEFT JOIN ({periods}) r ON r.patient_id = p.patient_id
    """,
    )


def _unknown_person(pid: str) -> str:
    """SQL: person id ``pid`` is empty or not in ``persons``."""
    return (
        f"({pid} NOT IN (SELECT patient_id FROM persons WHERE patient_id IS NOT NULL)"
        f" OR {pid} IS NULL)"
    )


# -- prescriptions and residences ----------------------------------------------


def _prescriptions(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, SourceView],
    parts: ReportParts,
    *,
    issue_days: int = 28,
    extract_date: dt.date | None = None,
) -> RawTable | None:
    if "drug_exposure" not in views:
        return None
    x = views["drug_exposure"]
    cid = ident(col(x, "drug_concept_id"))
    issue = date_text(x, "drug_exposure_start_date")
    start = f"TRY_CAST({issue} AS DATE)"
    days = (
        f"coalesce(date_diff('day', {start}, "
        f"TRY_CAST({date_text(x, 'drug_exposure_end_date')} AS DATE)), "
        f"{ident(col(x, 'days_supply'))})"
    )
    # Repeat issues every issue_days over the exposure (never past the extract).
    # Without an extract date, no repeat after the latest exposure start.
    last = (
        f"DATE '{extract_date.isoformat()}'"
        if extract_date is not None
        else f"(SELECT max(TRY_CAST({issue} AS DATE)) FROM src_drug_exposure t)"
    )
    limit = f"date_diff('day', {start}, {last})"
    n_issues = (
        f"CASE WHEN {start} IS NOT NULL AND {days} > {issue_days} "
        f"THEN greatest(1, CAST(ceil(least({days}, {limit} + 1) / {issue_days}) "
        "AS BIGINT)) ELSE 1 END"
    )
    administration = ident(col(x, "drug_type_concept_id"))
    if "concept" not in views:
        run(
            con,
            """
            CREATE TEMP TABLE drugs AS
            SELECT t._row, 'no_vocabulary' AS reason, NULL::VARCHAR AS drug_rule,
                NULL::VARCHAR AS issues
            FROM src_drug_exposure t
        """,
        )
    else:
        rx = in_list(RXNORM_VOCABULARIES)
        ingredients = "SELECT NULL::BIGINT AS cid, []::VARCHAR[] AS codes, "
        ingredients += "NULL::VARCHAR AS name WHERE false"
        if "concept_ancestor" in views:
            ingredients = f"""
                SELECT TRY_CAST(a.descendant_concept_id AS BIGINT) AS cid,
                    list(DISTINCT i.concept_code) AS codes,
                    min({col(views["concept"], "concept_name", alias="i")}) AS name
                FROM src_concept_ancestor a JOIN src_concept i
                  ON TRY_CAST(i.concept_id AS BIGINT)
                     = TRY_CAST(a.ancestor_concept_id AS BIGINT)
                WHERE i.concept_class_id = 'Ingredient' AND i.vocabulary_id IN {rx}
                  AND TRY_CAST(a.descendant_concept_id AS BIGINT) IN (
                      SELECT DISTINCT {cid} FROM src_drug_exposure t)
                GROUP BY 1"""
        klass = col(views["concept"], "concept_class_id", alias="c")
        name = col(views["concept"], "concept_name", alias="c")
        run(
            con,
            f"""
            CREATE TEMP TABLE drugs AS
            WITH s AS (
                SELECT t._row, {person_id(col(x, "person_id"))} AS patient_id,
                    {cid} AS cid, {issue} AS issue_date,
                    {n_issues} AS n_issues, {administration} AS type_id
                FROM src_drug_exposure t
            ), ing AS ({ingredients})
            SELECT s._row, s.patient_id, s.issue_date, s.n_issues, c.vocabulary_id,
                CASE WHEN s.n_issues > 1 THEN 'repeat_issues'
                     ELSE 'one_issue' END AS issues,
                CASE WHEN s.type_id IN {in_list(ADMINISTRATION_TYPES)}
                     THEN 'administration_not_prescription'
                     WHEN coalesce(s.cid, 0) = 0 THEN 'no_concept'
                     WHEN c.concept_id IS NULL THEN 'concept_not_found'
                     WHEN c.vocabulary_id NOT IN {rx} THEN 'not_rxnorm' END AS reason,
                CASE WHEN {klass} = 'Ingredient' THEN 'is_ingredient'
                     WHEN len(ing.codes) = 1 THEN 'ingredient_rollup'
                     WHEN len(ing.codes) > 1 THEN 'multi_ingredient_product'
                     ELSE 'own_code' END AS drug_rule,
                CASE WHEN {klass} <> 'Ingredient' AND len(ing.codes) = 1
                     THEN ing.codes[1] ELSE c.concept_code END AS drug_code,
                CASE WHEN {klass} <> 'Ingredient' AND len(ing.codes) = 1
                     THEN ing.name ELSE {name} END AS drug_name
            FROM s
            LEFT JOIN src_concept c ON TRY_CAST(c.concept_id AS BIGINT) = s.cid
                AND s.cid <> 0
            LEFT JOIN ing ON ing.cid = s.cid
        """,
        )
    reasons = dict(REASONS)
    if "concept" in views:
        rows = run(
            con,
            "SELECT vocabulary_id, count(*) FROM drugs WHERE reason = 'not_rxnorm' "
            "GROUP BY 1 ORDER BY 2 DESC",
        )
        found = ", ".join(f"{v}: {n}" for v, n in rows)
        reasons["not_rxnorm"] = f"{REASONS['not_rxnorm']} ({found})"
    parts.tally(
        con,
        "drugs",
        x,
        canonical_table="prescriptions",
        aspects=["drug_rule", "issues"],
        reasons=reasons,
    )
    return mapped_rows(
        con,
        x,
        parts,
        f"""
        SELECT _row, r.k AS _k, patient_id,
            CASE WHEN r.k = 0 THEN issue_date ELSE strftime(
                CAST(issue_date AS DATE) + CAST(r.k * {issue_days} AS INTEGER),
                '%Y-%m-%d') END AS issue_date,
            drug_code, 'rxnorm' AS drug_code_system, drug_name
        FROM drugs, range(n_issues) r(k) WHERE reason IS NULL
    """,
    )


def _residences(
    con: duckdb.DuckDBPyConnection, views: dict[str, SourceView], parts: ReportParts
) -> RawTable | None:
    if "observation" not in views:
        return None
    o = views["observation"]
    codes = in_list(RESIDENCE_CODES)
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in RESIDENCE_CODES.items())
    source = text(col(o, "observation_source_value"))
    by_concept = "NULL"
    join = ""
    if "concept" in views:
        by_concept = (
            f"CASE WHEN c.vocabulary_id = 'SNOMED' AND c.concept_code IN {codes} "
            "THEN c.concept_code END"
        )
        join = (
            "LEFT JOIN src_concept c ON TRY_CAST(c.concept_id AS BIGINT) = "
            f"{ident(col(o, 'observation_concept_id'))}"
        )
    run(
        con,
        f"""
        CREATE TEMP TABLE lives AS
        SELECT *, CASE WHEN code IS NULL THEN 'not_residence' END AS reason,
            CASE code {cases} END AS residence_type
        FROM (
            SELECT t._row, {person_id(col(o, "person_id"))} AS patient_id,
                {date_text(o, "observation_date")} AS start_date,
                coalesce({by_concept}, CASE WHEN {source} IN {codes} THEN {source} END)
                    AS code,
                CASE WHEN {by_concept} IS NOT NULL THEN 'snomed_concept'
                     ELSE 'snomed_source_value' END AS residence_rule
            FROM src_observation t {join}
        )
    """,
    )
    parts.tally(
        con, "lives", o, canonical_table="residences", aspects=["residence_rule"]
    )
    return mapped_rows(
        con,
        o,
        parts,
        """
        SELECT _row, patient_id, start_date, NULL::VARCHAR AS end_date, residence_type
        FROM lives WHERE reason IS NULL
    """,
    )


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
