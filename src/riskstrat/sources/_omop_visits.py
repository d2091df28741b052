"""OMOP ``visit_occurrence`` and ``visit_detail`` -> canonical admissions."""

from __future__ import annotations

import duckdb

from riskstrat.sources._adapter import (
    EMERGENCY_FROM_URGENCY,
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
from riskstrat.sources._mapping import ReportParts
from riskstrat.sources._omop_concepts import (
    EMERGENCY_ORIGINS,
)
from riskstrat.sources._omop_conditions import _condition_reasons
from riskstrat.sources._reading import SourceView, run
from riskstrat.sources._spells import create_spells, spell_rule_sql

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
