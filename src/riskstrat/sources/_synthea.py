"""``load_synthea``: the canonical tables from a Synthea CSV export.

Mapping rules (``docs/sources.md`` has them as a table, with the reasons):

- ``patients.csv`` -> ``patients``: ``Id``, ``BIRTHDATE``, ``DEATHDATE``,
  ``GENDER`` (M male, F female, else unknown), ``COUNTY`` as locality.
- ``encounters.csv`` -> ``admissions``: ``ENCOUNTERCLASS`` ``inpatient`` only.
  Emergency when an ``emergency`` encounter of the patient started before and
  ended on the admission day or the day before (admitted through the emergency
  department); otherwise urgency unknown (Synthea records no admission method),
  unless the caller states that such admissions are elective. ``emergency`` and
  ``urgentcare`` encounters alone are attendances, not admissions. The
  encounter's ``REASONCODE``, when it has an ICD-10 code, is the primary
  diagnosis.
- ``conditions.csv`` -> secondary diagnoses of the admission named by
  ``ENCOUNTER``. Synthea codes conditions in SNOMED CT: without an ICD-10 map
  (``icd10_map``) they are unmapped and the diagnosis features are reported as
  not computable. A ``SYSTEM`` column naming ICD-10 is used as it is.
- ``medications.csv`` -> ``prescriptions``: ``CODE`` is RxNorm, issued on the
  ``START`` date (one issue per medication row).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from riskstrat.sources._adapter import (
    EMERGENCY_FROM_URGENCY,
    check_options,
    finish,
    mapped_rows,
    plain_inpatient_rule,
    source_rows,
)
from riskstrat.sources._expr import as_date, col, date_text, in_list, text, time_text
from riskstrat.sources._loader import RawTable
from riskstrat.sources._mapping import ReportParts, SourceTables, Status
from riskstrat.sources._reading import SourceView, TableSpec, open_tables, run
from riskstrat.sources._spells import SPELL_RULES, create_spells, spell_rule_sql

__all__ = ["load_synthea"]

SPECS = {
    "patients": TableSpec(required=True, columns=("id", "birthdate", "gender")),
    "encounters": TableSpec(
        required=True, columns=("id", "start", "patient", "encounterclass")
    ),
    "conditions": TableSpec(columns=("start", "patient", "encounter", "code")),
    "medications": TableSpec(columns=("start", "patient", "code")),
}

RULES = {
    "gender_m": "GENDER M: male",
    "gender_f": "GENDER F: female",
    "gender_other": "any other GENDER: unknown",
    "after_emergency_encounter": "an emergency encounter of the patient started "
    "before and ended on the admission day or the day before: emergency",
    "emergency_encounter_code": "the inpatient encounter's CODE is SNOMED CT "
    "183478001 (emergency hospital admission): emergency",
    "elective_encounter_code": "the inpatient encounter's CODE is SNOMED CT "
    "8715000 (elective hospital admission): not emergency",
    "plain_inpatient_elective": "inpatient encounter with no emergency encounter "
    "before it, read as elective because the caller said so",
    "urgency_unknown": "inpatient encounter with no emergency encounter before "
    "it: emergency empty (urgency unknown, never guessed)",
    "reason_code_icd10": "REASONCODE has an ICD-10 code: primary diagnosis",
    "reason_code_not_icd10": "REASONCODE has no ICD-10 code: no primary diagnosis",
    "no_reason_code": "no REASONCODE: no primary diagnosis",
    "icd10_system": "SYSTEM names ICD-10: CODE used as it is",
    "icd10_from_map": "SNOMED CT CODE translated by the icd10_map given",
    "rxnorm_code": "CODE is RxNorm (drug_code_system rxnorm), issued on START",
}
REASONS = {
    "emergency_not_admitted": "emergency encounter with no inpatient encounter "
    "after it: an attendance, not an admission",
    "emergency_before_admission": "emergency encounter followed by an inpatient "
    "encounter: it makes that admission emergency, and is not one itself",
    "urgent_care": "urgent care encounter: not an admission, and not counted as "
    "emergency-department evidence",
    "not_inpatient": "ambulatory, wellness, outpatient, home, hospice, snf, "
    "virtual...: not an admission",
    "no_encounter": "ENCOUNTER empty: not linked to a hospital spell",
    "unknown_encounter": "ENCOUNTER is not in encounters.csv",
    "not_in_admission": "the encounter is not an admission",
    "no_icd10_mapping": "SNOMED CT code with no ICD-10 code (give icd10_map to "
    "translate)",
    "ambiguous_icd10": "icd10_map gives several ICD-10 codes for the SNOMED code",
}


def load_synthea(
    path: str | os.PathLike[str],
    *,
    extract_date: dt.date | None = None,
    icd10_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    inpatient_urgency: Literal["unknown", "elective"] = "unknown",
    join_spells: bool = True,
) -> SourceTables:
    r"""Read a Synthea CSV export (``patients.csv``, ``encounters.csv``...).

    Parameters
    ----------
    path : path-like
        The folder of Synthea CSV files (Parquet copies also work).
    extract_date : datetime.date, optional
        When the data were extracted; later rows are rejected.
    icd10_map : mapping or path-like, optional
        SNOMED CT code -> ICD-10 code, as a dict or a CSV file whose first two
        columns are the SNOMED and ICD-10 codes. Without it conditions stay
        unmapped and the diagnosis features are reported as not computable.
    inpatient_urgency : {"unknown", "elective"}, default="unknown"
        Urgency of an inpatient encounter with no emergency encounter before it.
    join_spells : bool, default=True
        Join contiguous or overlapping inpatient encounters of one patient into
        one spell (the first encounter's urgency, every diagnosis); ``False``
        keeps every encounter an admission.

    Returns
    -------
    SourceTables
        Validated canonical tables with ``mapping`` (a :class:`MappingReport`).
        ``residences``, ``nominations`` and ``enrolments`` are absent.

    Raises
    ------
    SchemaError
        ``patients.csv`` or ``encounters.csv`` is missing, or a file lacks a
        column the mapping needs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "Id,BIRTHDATE,DEATHDATE,GENDER\nu1,1940-02-03,,F\n")
    >>> _ = (folder / "encounters.csv").write_text(
    ...     "Id,START,STOP,PATIENT,ENCOUNTERCLASS\n"
    ...     "e1,2020-03-01T09:00:00Z,2020-03-01T12:00:00Z,u1,emergency\n"
    ...     "e2,2020-03-01T12:30:00Z,2020-03-04T10:00:00Z,u1,inpatient\n")
    >>> t = load_synthea(folder)
    >>> t.admissions.select(["admission_date", "emergency"]).to_pylist()
    [{'admission_date': datetime.date(2020, 3, 1), 'emergency': True}]
    """
    check_options(extract_date, inpatient_urgency, caller="load_synthea")
    con = duckdb.connect()
    try:
        _register_map(con, icd10_map)
        views = open_tables(con, path, SPECS, what="Synthea")
        return _map(
            con,
            views,
            extract_date,
            inpatient_urgency == "elective",
            join_spells=join_spells,
        )
    finally:
        con.close()


def _register_map(
    con: duckdb.DuckDBPyConnection,
    icd10_map: Mapping[str, str] | str | os.PathLike[str] | None,
) -> None:
    pairs: list[tuple[str, str]] = []
    if isinstance(icd10_map, Mapping):
        pairs = [(str(k).strip(), str(v).strip()) for k, v in icd10_map.items()]
    elif icd10_map is not None:
        with Path(icd10_map).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows or len(rows[0]) < 2:
            raise ValueError(
                f"{Path(icd10_map).name}: an ICD-10 map needs two columns (SNOMED "
                "code, ICD-10 code) and a header row."
            )
        pairs = [(r[0].strip(), r[1].strip()) for r in rows[1:] if len(r) >= 2]
    table = pa.table(
        {
            "snomed": pa.array([p[0] for p in pairs], pa.string()),
            "icd10": pa.array([p[1] for p in pairs], pa.string()),
        }
    )
    con.register("arrow_icd10_map", table)
    run(
        con,
        """CREATE TEMP TABLE icd10_map AS
        SELECT snomed, list(DISTINCT icd10) AS codes FROM (
            SELECT snomed, upper(replace(replace(icd10, '.', ''), ' ', '')) AS icd10
            FROM arrow_icd10_map WHERE snomed <> '' AND icd10 <> ''
        ) GROUP BY snomed""",
    )


def _map(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, SourceView],
    extract_date: dt.date | None,
    elective: bool,
    *,
    join_spells: bool = True,
) -> SourceTables:
    parts = ReportParts(rules=RULES | SPELL_RULES, reasons=REASONS)
    raws: dict[str, RawTable | None] = {
        "patients": _patients(con, views["patients"], parts)
    }
    _encounters(con, views["encounters"], elective)
    _conditions(con, views)
    raws["admissions"] = _admissions(con, views, parts, join_spells)
    if "medications" in views:
        raws["prescriptions"] = _medications(con, views["medications"], parts)
    return finish(
        raws,
        parts,
        source="synthea",
        extract_date=extract_date,
        drug_code_system="rxnorm",
        overrides=_overrides(views, parts),
        notes=[
            "emergency and urgent care encounters alone are attendances, not "
            "admissions",
            "Synthea conditions are SNOMED CT; ICD-10 only through icd10_map",
        ],
    )


def _patients(
    con: duckdb.DuckDBPyConnection, p: SourceView, parts: ReportParts
) -> RawTable:
    gender = f"upper({text(col(p, 'gender'))})"
    run(
        con,
        f"""CREATE TEMP TABLE persons AS
        SELECT t._row, {text(col(p, "id"))} AS patient_id,
            {date_text(p, "birthdate")} AS birth_date,
            CASE {gender} WHEN 'M' THEN 'male' WHEN 'F' THEN 'female'
                 ELSE 'unknown' END AS sex,
            CASE {gender} WHEN 'M' THEN 'gender_m' WHEN 'F' THEN 'gender_f'
                 ELSE 'gender_other' END AS sex_rule,
            {text(col(p, "county"))} AS locality,
            {date_text(p, "deathdate")} AS death_date,
            NULL::VARCHAR AS reason
        FROM src_patients t""",
    )
    parts.tally(con, "persons", p, canonical_table="patients", aspects=["sex_rule"])
    return source_rows(
        con,
        p,
        """
        SELECT _row, patient_id, birth_date, sex, locality,
            NULL::VARCHAR AS practice_id, NULL::INTEGER AS deprivation_decile,
            death_date, NULL::VARCHAR AS registration_date,
            NULL::VARCHAR AS deregistration_date
        FROM persons
    """,
    )


def _icd10(code: str, system: str) -> tuple[str, str]:
    """SQL for (rule, ICD-10 code) of a code, given its SYSTEM expression."""
    is_icd = f"coalesce(upper({system}) LIKE '%ICD%10%', false)"
    rule = (
        f"CASE WHEN {is_icd} THEN 'icd10_system' "
        f"WHEN len(m.codes) = 1 THEN 'icd10_from_map' END"
    )
    value = (
        f"CASE WHEN {is_icd} THEN upper(replace({code}, '.', '')) "
        f"WHEN len(m.codes) = 1 THEN m.codes[1] END"
    )
    return rule, value


#: SNOMED CT encounter codes of an emergency hospital admission. 183452005 is
#: not here: Synthea writes it on inpatient encounters in general ("Encounter
#: Inpatient"), so it says nothing about urgency.
EMERGENCY_ENCOUNTER_CODES = ("183478001",)
#: SNOMED CT encounter codes of an elective hospital admission.
ELECTIVE_ENCOUNTER_CODES = ("8715000",)


def _encounters(con: duckdb.DuckDBPyConnection, e: SourceView, elective: bool) -> None:
    plain = plain_inpatient_rule(elective)
    reason_code = text(col(e, "reasoncode"))
    rule, value = _icd10("e.reason_code", "NULL")
    run(
        con,
        f"""CREATE TEMP TABLE enc AS
        SELECT t._row, {text(col(e, "id"))} AS enc_id,
            {text(col(e, "patient"))} AS patient_id,
            lower({text(col(e, "encounterclass"))}) AS class,
            {date_text(e, "start")} AS start_text,
            {date_text(e, "stop")} AS stop_text,
            {time_text(e, "start")} AS start_time,
            {reason_code} AS reason_code,
            {text(col(e, "code")) if e.has("code") else "NULL::VARCHAR"} AS code
        FROM src_encounters t""",
    )
    run(
        con,
        f"""CREATE TEMP TABLE ed_before AS
        SELECT i.enc_id AS admission_id, e.enc_id AS ed_id
        FROM enc i JOIN enc e
          ON e.patient_id = i.patient_id AND e.class = 'emergency'
         AND {as_date("e.start_text")} <= {as_date("i.start_text")}
         AND {as_date("coalesce(e.stop_text, e.start_text)")}
             BETWEEN {as_date("i.start_text")} - 1 AND {as_date("i.start_text")}
        WHERE i.class = 'inpatient'""",
    )
    run(
        con,
        f"""CREATE TEMP TABLE adm AS
        SELECT e.*, urgency, {EMERGENCY_FROM_URGENCY} AS emergency,
            CASE WHEN e.reason_code IS NULL THEN 'no_reason_code'
                 WHEN ({rule}) IS NOT NULL THEN 'reason_code_icd10'
                 ELSE 'reason_code_not_icd10' END AS primary_rule,
            {value} AS primary_code
        FROM (
            SELECT *, CASE WHEN enc_id IN (SELECT admission_id FROM ed_before)
                THEN 'after_emergency_encounter'
                WHEN code IN {in_list(EMERGENCY_ENCOUNTER_CODES)}
                THEN 'emergency_encounter_code'
                WHEN code IN {in_list(ELECTIVE_ENCOUNTER_CODES)}
                THEN 'elective_encounter_code'
                ELSE {plain} END AS urgency
            FROM enc WHERE class = 'inpatient'
        ) e LEFT JOIN icd10_map m ON m.snomed = e.reason_code""",
    )


def _conditions(con: duckdb.DuckDBPyConnection, views: dict[str, SourceView]) -> None:
    if "conditions" not in views:
        run(
            con,
            "CREATE TEMP TABLE cond (_row BIGINT, enc_id VARCHAR, code VARCHAR, "
            "reason VARCHAR, icd10 VARCHAR)",
        )
        return
    c = views["conditions"]
    rule, value = _icd10("s.code", "s.system")
    run(
        con,
        f"""CREATE TEMP TABLE cond AS
        WITH s AS (
            SELECT t._row, {text(col(c, "encounter"))} AS enc_id,
                {text(col(c, "code"))} AS code,
                {text(col(c, "system"))} AS system
            FROM src_conditions t
        ), coded AS (
            SELECT s._row, s.enc_id, {rule} AS icd10, {value} AS icd10_code,
                len(m.codes) AS n_codes
            FROM s LEFT JOIN icd10_map m ON m.snomed = s.code
        )
        SELECT coded._row, coded.enc_id, coded.icd10_code AS code, coded.icd10,
            CASE WHEN coded.enc_id IS NULL THEN 'no_encounter'
                 WHEN coded.enc_id NOT IN (SELECT enc_id FROM enc
                                           WHERE enc_id IS NOT NULL)
                 THEN 'unknown_encounter'
                 WHEN a.enc_id IS NULL THEN 'not_in_admission'
                 WHEN coded.icd10_code IS NOT NULL THEN NULL
                 WHEN coded.n_codes > 1 THEN 'ambiguous_icd10'
                 ELSE 'no_icd10_mapping' END AS reason
        FROM coded
        LEFT JOIN (SELECT DISTINCT enc_id FROM adm) a ON a.enc_id = coded.enc_id""",
    )


def _admissions(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, SourceView],
    parts: ReportParts,
    join_spells: bool = True,
) -> RawTable:
    e = views["encounters"]
    run(
        con,
        "CREATE TEMP VIEW stays AS "
        "SELECT _row, patient_id, start_text, stop_text AS end_text FROM adm",
    )
    create_spells(con, "stays", join=join_spells)
    run(
        con,
        f"""CREATE TEMP VIEW enc_tally AS
        SELECT e._row,
            CASE WHEN a._row IS NOT NULL THEN NULL
                 WHEN e.class = 'emergency'
                      AND e.enc_id IN (SELECT ed_id FROM ed_before)
                 THEN 'emergency_before_admission'
                 WHEN e.class = 'emergency' THEN 'emergency_not_admitted'
                 WHEN e.class = 'urgentcare' THEN 'urgent_care'
                 ELSE 'not_inpatient' END AS reason,
            a.urgency, a.primary_rule, {spell_rule_sql(join_spells)} AS spell
        FROM enc e LEFT JOIN adm a ON a._row = e._row
        LEFT JOIN spells sp ON sp._row = a._row""",
    )
    parts.tally(
        con,
        "enc_tally",
        e,
        canonical_table="admissions",
        aspects=["urgency", "primary_rule", "spell"],
    )
    if "conditions" in views:
        parts.tally(
            con,
            "cond",
            views["conditions"],
            canonical_table="admissions",
            aspects=["icd10"],
        )
    return source_rows(
        con,
        e,
        """
        WITH sp AS (
            SELECT a.*, s.spell_row FROM adm a JOIN spells s ON s._row = a._row
        ), first_stay AS (
            SELECT * FROM sp WHERE _row = spell_row
        ), ends AS (
            SELECT spell_row, CASE WHEN bool_or(stop_text IS NULL) THEN NULL
                ELSE max(stop_text) END AS stop_text
            FROM sp GROUP BY spell_row
        ), codes AS (
            SELECT sp.spell_row, c.code FROM cond c JOIN sp ON sp.enc_id = c.enc_id
            WHERE c.reason IS NULL
            UNION ALL
            SELECT spell_row, primary_code FROM sp
            WHERE _row <> spell_row AND primary_code IS NOT NULL
        ), sec AS (
            SELECT x.spell_row, list_sort(list(DISTINCT x.code)) AS codes
            FROM codes x JOIN first_stay f ON f.spell_row = x.spell_row
            WHERE f.primary_code IS NULL OR x.code <> f.primary_code
            GROUP BY x.spell_row
        )
        SELECT a._row, a.patient_id, a.start_text AS admission_date,
            e.stop_text AS discharge_date, a.emergency,
            a.primary_code AS primary_diagnosis,
            coalesce(s.codes, []::VARCHAR[]) AS secondary_diagnoses,
            a.start_time AS admission_time,
            'icd10' AS diagnosis_code_system
        FROM first_stay a JOIN ends e ON e.spell_row = a.spell_row
        LEFT JOIN sec s ON s.spell_row = a.spell_row
    """,
    )


def _medications(
    con: duckdb.DuckDBPyConnection, m: SourceView, parts: ReportParts
) -> RawTable | None:
    run(
        con,
        f"""CREATE TEMP TABLE meds AS
        SELECT t._row, {text(col(m, "patient"))} AS patient_id,
            {date_text(m, "start")} AS issue_date,
            {text(col(m, "code"))} AS drug_code,
            {text(col(m, "description"))} AS drug_name,
            NULL::VARCHAR AS reason, 'rxnorm_code' AS drug_rule
        FROM src_medications t""",
    )
    parts.tally(con, "meds", m, canonical_table="prescriptions", aspects=["drug_rule"])
    return mapped_rows(
        con,
        m,
        parts,
        """
        SELECT _row, patient_id, issue_date, drug_code,
            'rxnorm' AS drug_code_system, drug_name
        FROM meds
    """,
    )


def _overrides(
    views: dict[str, SourceView], parts: ReportParts
) -> dict[str, tuple[Status, str]]:
    out: dict[str, tuple[Status, str]] = {}
    mapped = parts.count("conditions", "mapped")
    lost = parts.reason_rows("conditions", "no_icd10_mapping") + parts.reason_rows(
        "conditions", "ambiguous_icd10"
    )
    if "conditions" not in views:
        reason = "no conditions.csv"
        out["frailty_diagnoses"] = out["comorbidities"] = ("not_computable", reason)
    elif lost and not mapped:
        reason = (
            f"none of the {lost} conditions of admissions has an ICD-10 code "
            "(Synthea codes SNOMED CT; give icd10_map)"
        )
        out["frailty_diagnoses"] = out["comorbidities"] = ("not_computable", reason)
    elif lost:
        reason = f"{lost} of {lost + mapped} conditions of admissions have no ICD-10"
        out["frailty_diagnoses"] = out["comorbidities"] = ("partial", reason)
    if "medications" not in views or parts.count("medications", "mapped") == 0:
        out["drugs"] = ("not_computable", "no medications")
    else:
        out["drugs"] = (
            "partial",
            "a Synthea medication is one issue on its START date: long-running "
            "medicines are not re-issued, so drugs_90d undercounts",
        )
    out["residence"] = ("not_computable", "Synthea has no residence data")
    out["nominations"] = ("not_computable", "Synthea has no clinician nominations")
    out["deprivation"] = ("not_computable", "Synthea has no deprivation decile")
    out["practice"] = ("not_computable", "Synthea has no GP practice")
    return out
