"""OMOP ``person``, ``death`` and ``observation_period`` -> canonical patients."""

from __future__ import annotations

import duckdb

from riskstrat.sources._adapter import (
    source_rows,
)
from riskstrat.sources._expr import (
    as_date,
    col,
    date_text,
    ident,
    person_id,
    text,
)
from riskstrat.sources._loader import RawTable
from riskstrat.sources._mapping import ReportParts
from riskstrat.sources._reading import SourceView, run

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
