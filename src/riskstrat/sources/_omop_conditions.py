"""OMOP ``condition_occurrence`` -> diagnoses of admissions (ICD-10 codes)."""

from __future__ import annotations

import duckdb

from riskstrat.sources._expr import (
    as_date,
    col,
    date_text,
    ident,
    in_list,
    text,
)
from riskstrat.sources._omop_concepts import (
    ICD10_SHAPE,
    ICD10_VOCABULARIES,
    PRIMARY_CONDITION_STATUS,
    PRIMARY_CONDITION_TYPES,
)
from riskstrat.sources._omop_text import REASONS
from riskstrat.sources._reading import SourceView, run

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
                          AND regexp_full_match(s.source_value, '{ICD10_SHAPE}')
                     THEN 'icd10_source_value'
                     WHEN len(m.codes) = 1 THEN 'icd10_maps_to'
                END AS icd10,
                CASE WHEN {src_vocab} IN {icd} THEN {norm.format(x=src_code)}
                     WHEN {src_vocab} IS NULL
                          AND regexp_full_match(s.source_value, '{ICD10_SHAPE}')
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
