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

A canonical folder is joined the same way, by the same grouping
(:func:`create_spells`), but *after* validation (:func:`join_admissions`): its
rows are checked and counted as stays (read = accepted + rejected), and the
accepted stays are then joined. The OMOP and Synthea adapters join before
validation because their diagnoses come from other tables (decision 0019).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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

#: The canonical loader's extra ``spell`` rule: rows rejected before joining.
REJECTED_STAY_RULE: dict[str, str] = {
    "rejected_stay": "rejected by validation (see rejects): not part of any spell",
}


def create_spells(con: duckdb.DuckDBPyConnection, relation: str, *, join: bool) -> None:
    """Create ``spells(_row, spell_row)``: each stay and its spell's first row.

    ``relation`` has ``_row``, ``patient_id``, ``start_text`` and ``end_text``
    (ISO date text or DATE; ``end_text`` null = still in).

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


@dataclass(frozen=True)
class JoinedSpells:
    """What :func:`join_admissions` did.

    Attributes
    ----------
    admissions : pyarrow.Table
        One row per spell, in the order of each spell's first stay.
    joined : int or None
        Stays joined into an earlier stay's spell; None when joining was off.
    codes_other_system : int
        Diagnosis codes of joined stays left out because the stay declared
        another ``diagnosis_code_system`` than its spell's first stay.
    held_by_open : int
        Joined stays that started after an earlier stay of their spell with
        no discharge date (an open stay holds every later one: if the
        discharges are missing rather than open, these are not one spell).
    """

    admissions: pa.Table
    joined: int | None
    codes_other_system: int = 0
    held_by_open: int = 0


def join_admissions(admissions: pa.Table, *, join: bool = True) -> JoinedSpells:
    """Join validated canonical admissions (stays) into spells.

    The grouping is :func:`create_spells`'s: per person, in order of admission
    date (then row), a stay that starts on or before the latest discharge so
    far (the same day, or overlapping; a stay still open holds every later
    one) joins that spell. A spell keeps its first stay's row: admission date
    and time, ``emergency``, ``admission_method``, ``primary_diagnosis`` and
    ``diagnosis_code_system``; its discharge is the latest of its stays (empty
    if any stay is still open); its secondary diagnoses are the first stay's,
    then, in stay order and without repeats, the joined stays' primary and
    secondary diagnoses (a code equal to the spell's primary is not repeated).
    Codes of a joined stay in another code system than the first stay's are
    left out and counted. A stay alone is returned unchanged.

    Parameters
    ----------
    admissions : pyarrow.Table
        Accepted admissions (the contract's schema).
    join : bool, default=True
        False returns the table as it is (``joined`` None).

    Returns
    -------
    JoinedSpells

    Examples
    --------
    >>> import datetime as dt
    >>> from riskstrat.sources import CONTRACT
    >>> d = dt.date
    >>> stays = pa.Table.from_pylist([
    ...     {"patient_id": "a", "admission_date": d(2021, 1, 1),
    ...      "discharge_date": d(2021, 1, 3), "emergency": True,
    ...      "primary_diagnosis": "I21", "secondary_diagnoses": ["I10"],
    ...      "diagnosis_code_system": "icd10"},
    ...     {"patient_id": "a", "admission_date": d(2021, 1, 3),
    ...      "discharge_date": d(2021, 1, 9), "emergency": False,
    ...      "primary_diagnosis": "J189", "secondary_diagnoses": ["I10"],
    ...      "diagnosis_code_system": "icd10"},
    ... ], schema=CONTRACT["admissions"].arrow_schema())
    >>> out = join_admissions(stays)
    >>> out.joined, out.admissions.num_rows
    (1, 1)
    >>> row = out.admissions.to_pylist()[0]
    >>> row["discharge_date"], row["emergency"], row["secondary_diagnoses"]
    (datetime.date(2021, 1, 9), True, ['I10', 'J189'])
    """
    if not join:
        return JoinedSpells(admissions, None)
    n = admissions.num_rows
    if n < 2:
        return JoinedSpells(admissions, 0)
    spell = _spell_rows(admissions)
    first = spell == np.arange(n)
    if first.all():
        return JoinedSpells(admissions, 0)
    kept = admissions.filter(pa.array(first))
    position = np.cumsum(first) - 1  # row of the input -> row of ``kept``
    discharge = kept["discharge_date"].to_pylist()
    secondary = kept["secondary_diagnoses"].to_pylist()
    # The stays of spells of more than one stay, read once, in spell order
    # (first stay, then by admission date and row, as create_spells orders).
    rows = np.flatnonzero(np.isin(spell, np.unique(spell[~first])))
    day = pc.cast(admissions["admission_date"], pa.int32()).to_numpy()
    rows = rows[np.lexsort((rows, day[rows], ~first[rows], spell[rows]))]
    stays = admissions.take(pa.array(rows)).select(
        [
            "discharge_date",
            "primary_diagnosis",
            "secondary_diagnoses",
            "diagnosis_code_system",
        ]
    )
    values = list(zip(*(stays[c].to_pylist() for c in stays.column_names), strict=True))
    other = held = 0
    for head, group in groupby(
        zip(spell[rows].tolist(), values, strict=True), key=lambda x: x[0]
    ):
        spell_stays = [v for _, v in group]  # its first stay first
        ends = [v[0] for v in spell_stays]
        held += sum(None in ends[:i] for i in range(1, len(ends)))
        at = int(position[head])  # a spell's id is its first stay's row
        discharge[at] = None if None in ends else max(ends)
        codes, left_out = _spell_codes(spell_stays)
        secondary[at] = codes
        other += left_out
    schema = admissions.schema
    kept = kept.set_column(
        schema.get_field_index("discharge_date"),
        schema.field("discharge_date"),
        pa.array(discharge, schema.field("discharge_date").type),
    ).set_column(
        schema.get_field_index("secondary_diagnoses"),
        schema.field("secondary_diagnoses"),
        pa.array(secondary, schema.field("secondary_diagnoses").type),
    )
    return JoinedSpells(kept, int((~first).sum()), other, held)


def _spell_rows(admissions: pa.Table) -> np.ndarray:
    """Each row's spell's first row (0-based), by :func:`create_spells`."""
    n = admissions.num_rows
    stays = pa.table(
        {
            "_row": pa.array(np.arange(n, dtype=np.int64)),
            "patient_id": admissions["patient_id"],
            "start_text": admissions["admission_date"],
            "end_text": admissions["discharge_date"],
        }
    )
    with duckdb.connect() as con:
        con.register("canonical_stays", stays)
        create_spells(con, "canonical_stays", join=True)
        out = con.sql("SELECT _row, spell_row FROM spells").to_arrow_table()
    spell = np.empty(n, dtype=np.int64)
    spell[out["_row"].to_numpy()] = out["spell_row"].to_numpy()
    return spell


def _spell_codes(stays: list[tuple]) -> tuple[list[str], int]:
    """Secondary diagnoses of a joined spell, and codes left out (other system).

    ``stays`` are ``(discharge, primary, secondary, system)``, first stay first.
    """
    _, primary, secondary, system = stays[0]
    codes = list(secondary or [])
    seen = {*codes, primary}
    left_out = 0
    for _, prim, sec, sys in stays[1:]:
        found = [c for c in [prim, *(sec or [])] if c is not None]
        if sys != system:
            left_out += len(found)
            continue
        for code in found:
            if code not in seen:
                seen.add(code)
                codes.append(code)
    return codes, left_out


def spells_joined(report: Any) -> bool | None:
    """Whether a mapping report's admissions were joined into spells.

    True when its ``spell`` aspect counts first or joined stays, False when it
    counts ``stay_not_joined``, None when it says nothing (no report, a
    synthetic population, a folder validated before spells were joined).

    Examples
    --------
    >>> spells_joined(None) is None
    True
    """
    if report is None:
        return None
    mapped = report.mapped
    rules = set(mapped.filter(pc.equal(mapped["aspect"], "spell"))["rule"].to_pylist())
    if rules & {"first_stay_of_spell", "joined_into_spell"}:
        return True
    if "stay_not_joined" in rules:
        return False
    return None
