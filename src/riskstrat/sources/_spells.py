"""Spells: contiguous or overlapping inpatient stays of one person are one spell.

Sources record stays, not spells: a transfer from a ward to intensive care, or a
discharge and readmission on the same day, makes two visits (OMOP) or two
encounters (Synthea) of what the contract counts as one hospital spell.
Counting them apart inflates admissions (and the seed's two-admissions rule)
and splits bed days. An adapter therefore joins, per person, every stay that
starts on or before the latest discharge so far (same day or overlap; a stay
still open holds everything after it) into the spell of the first. The spell
keeps the first stay's source row, admission date, time and urgency
(``emergency``), runs to the latest discharge (open if any stay is open), and
gathers the diagnoses of every stay. A stay whose admission date cannot be read
stays a spell of its own (validation rejects it).

Each adapter takes ``join_spells`` (default True); ``False`` keeps every stay as
an admission. The mapping report counts the stays by rule (aspect ``spell``):
``first_stay_of_spell``, ``joined_into_spell`` or ``stay_not_joined``.
"""

from __future__ import annotations

import duckdb

from riskstrat.sources._reading import run

__all__: list[str] = []

#: Mapping-report rules of the ``spell`` aspect.
SPELL_RULES: dict[str, str] = {
    "first_stay_of_spell": "the first stay of a spell (or a stay on its own): "
    "its admission date, time and urgency are the spell's",
    "joined_into_spell": "a stay starting on or before the latest discharge of "
    "the person's spell so far (same day or overlap): joined into that spell, "
    "its diagnoses and discharge kept",
    "stay_not_joined": "join_spells=False: every stay is an admission",
}


def create_spells(con: duckdb.DuckDBPyConnection, relation: str, *, join: bool) -> None:
    """Create ``spells(_row, spell_row)``: each stay and its spell's first row.

    ``relation`` has ``_row``, ``patient_id``, ``start_text`` and ``end_text``
    (ISO date text; ``end_text`` null = still in).

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.sql(
    ...     "CREATE TABLE st AS SELECT * FROM (VALUES "
    ...     "(1, 'a', '2021-01-01', '2021-01-03'), (2, 'a', '2021-01-03', "
    ...     "'2021-01-05'), (3, 'a', '2021-01-06', NULL), (4, 'a', '2021-02-01', "
    ...     "'2021-02-02'), (5, 'b', '2021-01-02', '2021-01-04')) "
    ...     "t(_row, patient_id, start_text, end_text)")
    >>> create_spells(con, "st", join=True)
    >>> con.sql("SELECT * FROM spells ORDER BY _row").fetchall()
    [(1, 1), (2, 1), (3, 3), (4, 3), (5, 5)]
    """
    if not join:
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE spells AS "
            f"SELECT _row, _row AS spell_row FROM {relation}",
        )
        return
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE spells AS
        WITH x AS (
            SELECT _row, patient_id,
                TRY_CAST(start_text AS DATE) AS s,
                CASE WHEN end_text IS NULL THEN DATE '9999-12-31'
                     ELSE TRY_CAST(end_text AS DATE) END AS e
            FROM {relation}
        ), o AS (
            SELECT *, max(e) OVER (
                PARTITION BY patient_id ORDER BY s, _row
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM x WHERE s IS NOT NULL
        ), g AS (
            SELECT *, sum(CASE WHEN prev_end IS NOT NULL AND s <= prev_end
                               THEN 0 ELSE 1 END) OVER (
                PARTITION BY patient_id ORDER BY s, _row
                ROWS UNBOUNDED PRECEDING) AS grp
            FROM o
        )
        SELECT _row, first_value(_row) OVER (
            PARTITION BY patient_id, grp ORDER BY s, _row) AS spell_row
        FROM g
        UNION ALL
        SELECT _row, _row FROM x WHERE s IS NULL
        """,
    )


def spell_rule_sql(join: bool) -> str:
    """SQL over ``sp`` (a ``spells`` row): the stay's ``spell`` rule.

    Examples
    --------
    >>> spell_rule_sql(False)
    "'stay_not_joined'"
    """
    if not join:
        return "'stay_not_joined'"
    return (
        "CASE WHEN sp._row = sp.spell_row THEN 'first_stay_of_spell' "
        "ELSE 'joined_into_spell' END"
    )
