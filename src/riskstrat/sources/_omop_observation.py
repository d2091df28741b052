"""OMOP ``observation`` -> canonical residences (care-home codes)."""

from __future__ import annotations

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
    text,
)
from riskstrat.sources._loader import RawTable
from riskstrat.sources._mapping import ReportParts
from riskstrat.sources._omop_concepts import (
    RESIDENCE_CODES,
)
from riskstrat.sources._reading import SourceView, run


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
