"""OMOP ``drug_exposure`` -> canonical prescriptions (RxNorm, repeat issues)."""

from __future__ import annotations

import datetime as dt

import duckdb

from riskstrat.sources._adapter import (
    mapped_rows,
)
from riskstrat.sources._expr import (
    col,
    date_text,
    ident,
    in_list,
    person_id,
)
from riskstrat.sources._loader import RawTable
from riskstrat.sources._mapping import ReportParts
from riskstrat.sources._omop_concepts import (
    ADMINISTRATION_TYPES,
    RXNORM_VOCABULARIES,
)
from riskstrat.sources._omop_text import REASONS
from riskstrat.sources._reading import SourceView, run

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
