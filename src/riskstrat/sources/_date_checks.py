"""Date checks: what per-person date shifting leaves behind, counted and warned about.

De-identified extracts often move each person's dates by a random offset. Shifted
consistently (birth, registration, death and every event by the same offset), a
person's record stays coherent and only their age on a calendar date is off, by
up to the offset; shifted inconsistently, or by years, it gives people older than
anyone alive, events before birth or after death, and an age distribution no
population has. Nothing here can undo a shift: these checks count what can be
seen, after validation, and warn (``DataQualityWarning``, counts only, no
patient data). The rows that are impossible are already rejects; the checks
only add people-level counts to them.

- ``event_before_birth``: people with an event rejected as dated before birth
  (warns above 1 % of people when there are at least 5: each rejected row is
  already warned about, table by table).
- ``event_after_death``: people with an event rejected as after death (the
  same).
- ``alive_over_110``: people with no death date older than 110 on the reference
  date, or when they deregistered (any).
- ``event_years_before_registration``: people with an event more than 5 years
  before their ``registration_date``, of those with one (warns above 10 %).
- ``aged_100_plus``: people aged 100 or more on the reference date, of those
  alive (no death before it) and registered then (warns above 0.5 % when
  there are at least 5).

A source that records no deaths makes the two age rules fire too: everyone
born long ago is "alive". The warning names both causes.

The reference date is the extract date, else the latest accepted event date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from riskstrat._utils import warn_caller
from riskstrat.exceptions import DataQualityWarning
from riskstrat.sources._tables import Tables

__all__ = ["DATE_CHECKS", "DateCheck", "check_dates", "date_notes", "warn_dates"]

#: Share of people (and fewest people) with rejected events before birth or after
#: death above which those rules warn.
REJECTED_SHARE = 0.01
REJECTED_MIN = 5
#: Oldest age (years) taken as plausible for a living person.
MAX_AGE = 110
#: Years an event may precede registration before it counts.
YEARS_BEFORE_REGISTRATION = 5
#: Share of people with a registration date above which that rule warns.
REGISTRATION_SHARE = 0.10
#: Share of living people aged 100+ above which the age distribution warns
#: (in England about 1 person in 4,000 is 100 or older; a hospital cohort more).
CENTENARIAN_SHARE = 0.005
#: Fewest people aged 100+ before the age distribution is judged.
CENTENARIAN_MIN = 5

#: Every rule and what it counts.
DATE_CHECKS: dict[str, str] = {
    "event_before_birth": "people with an event dated before their birth (the "
    "rows are rejected as impossible_date)",
    "event_after_death": "people with an event dated after their death (the rows "
    "are rejected as after_death)",
    "alive_over_110": f"people with no death date older than {MAX_AGE} on the "
    "reference date (or when they deregistered)",
    "event_years_before_registration": "people with an event more than "
    f"{YEARS_BEFORE_REGISTRATION} years before their registration date (of those "
    "with one)",
    "aged_100_plus": "people aged 100 or more on the reference date (of those "
    "alive and registered then)",
}

_EVENT_DATES = {
    "admissions": ("admission_date", "discharge_date"),
    "prescriptions": ("issue_date",),
    "residences": ("start_date",),
    "nominations": ("date",),
    "enrolments": ("enrol_date",),
    "screenings": ("date",),
}


@dataclass(frozen=True)
class DateCheck:
    """One rule's count: ``people`` of ``of_people``; ``flagged`` if it warns."""

    rule: str
    people: int
    of_people: int
    flagged: bool

    @property
    def share(self) -> float:
        """``people / of_people`` (0 when there is no one to count)."""
        return self.people / self.of_people if self.of_people else 0.0

    def sentence(self) -> str:
        """``alive_over_110: 3 of 2,694 people (0.11%)``."""
        return (
            f"{self.rule}: {self.people:,} of {self.of_people:,} people "
            f"({self.share:.2%})"
        )


def check_dates(tables: Tables) -> tuple[list[DateCheck], dt.date | None]:
    """Count the signs of per-person date shifting in validated tables.

    Parameters
    ----------
    tables : Tables
        Validated tables with their ``rejects`` (the rejected rows dated before
        birth or after death are counted from there).

    Returns
    -------
    list of DateCheck, datetime.date or None
        One check per rule of :data:`DATE_CHECKS`, and the reference date (the
        extract date, else the latest accepted event date; None when there is
        no event at all, and the age rules then count no one).

    Examples
    --------
    >>> import datetime as dt
    >>> import pyarrow as pa
    >>> from riskstrat.sources import CONTRACT, Tables
    >>> pts = pa.Table.from_pylist(
    ...     [{"patient_id": "a", "birth_date": dt.date(1900, 1, 1), "sex": "male"},
    ...      {"patient_id": "b", "birth_date": dt.date(1950, 1, 1), "sex": "male"}],
    ...     schema=CONTRACT["patients"].arrow_schema())
    >>> t = Tables(patients=pts, admissions=CONTRACT["admissions"].empty(),
    ...            extract_date=dt.date(2024, 1, 1))
    >>> checks, ref = check_dates(t)
    >>> [c.sentence() for c in checks if c.flagged]
    ['alive_over_110: 1 of 2 people (50.00%)']
    """
    people = tables.patients.num_rows
    with duckdb.connect() as con:
        con.register("pts", tables.patients)
        con.register("rej", tables.rejects)
        reference = tables.extract_date or _latest_event(con, tables)
        before_birth = _rejected_people(
            con,
            "rule = 'impossible_date' AND \"table\" <> 'patients' AND "
            "TRY_CAST(value AS DATE) BETWEEN DATE '1900-01-01' AND DATE '2199-12-31'",
        )
        after_death = _rejected_people(con, "rule = 'after_death'")
        over_110, alive, centenarians = 0, 0, 0
        if reference is not None:
            over_110, alive, centenarians = con.execute(
                f"""
                SELECT
                    count(*) FILTER (WHERE death_date IS NULL AND
                        least(coalesce(deregistration_date, $ref), $ref)
                        >= birth_date + INTERVAL {MAX_AGE + 1} YEAR),
                    count(*) FILTER (WHERE alive),
                    count(*) FILTER (WHERE alive AND
                        $ref >= birth_date + INTERVAL 100 YEAR)
                FROM (SELECT *, (death_date IS NULL OR death_date > $ref)
                        AND birth_date <= $ref
                        AND coalesce(registration_date <= $ref, true)
                        AND coalesce(deregistration_date > $ref, true) AS alive
                      FROM pts)
                """,
                {"ref": reference},
            ).fetchall()[0]
        early, registered = _before_registration(con, tables)
    checks = [
        DateCheck(
            "event_before_birth",
            before_birth,
            people,
            _many(before_birth, people, REJECTED_SHARE, REJECTED_MIN),
        ),
        DateCheck(
            "event_after_death",
            after_death,
            people,
            _many(after_death, people, REJECTED_SHARE, REJECTED_MIN),
        ),
        DateCheck("alive_over_110", over_110, people, over_110 > 0),
        DateCheck(
            "event_years_before_registration",
            early,
            registered,
            registered > 0 and early / registered > REGISTRATION_SHARE,
        ),
        DateCheck(
            "aged_100_plus",
            centenarians,
            alive,
            _many(centenarians, alive, CENTENARIAN_SHARE, CENTENARIAN_MIN),
        ),
    ]
    return checks, reference


def _many(count: int, of: int, share: float, least: int) -> bool:
    """At least ``least`` and more than ``share`` of ``of``."""
    return count >= least and of > 0 and count / of > share


def _rejected_people(con: duckdb.DuckDBPyConnection, where: str) -> int:
    sql = f"SELECT count(DISTINCT patient_id) FROM rej WHERE {where}"
    return int(con.execute(sql).fetchall()[0][0])


def _event_union(tables: Tables, what: str) -> str:
    """``SELECT patient_id, <what>(date) ...`` over every event date column."""
    parts = []
    for name, columns in _EVENT_DATES.items():
        if getattr(tables, name).num_rows == 0:
            continue
        for column in columns:
            parts.append(
                f'SELECT patient_id, {what}("{column}") AS d FROM "ev_{name}" '
                "GROUP BY patient_id"
            )
    return " UNION ALL ".join(parts)


def _register_events(con: duckdb.DuckDBPyConnection, tables: Tables) -> None:
    for name, columns in _EVENT_DATES.items():
        table = getattr(tables, name)
        if table.num_rows:
            con.register(f"ev_{name}", table.select(["patient_id", *columns]))


def _latest_event(con: duckdb.DuckDBPyConnection, tables: Tables) -> dt.date | None:
    _register_events(con, tables)
    union = _event_union(tables, "max")
    if not union:
        return None
    return con.execute(f"SELECT max(d) FROM ({union})").fetchall()[0][0]


def _before_registration(
    con: duckdb.DuckDBPyConnection, tables: Tables
) -> tuple[int, int]:
    """People with an event years before registration, and people registered."""
    _register_events(con, tables)
    union = _event_union(tables, "min")
    registered = int(
        con.execute(
            "SELECT count(*) FROM pts WHERE registration_date IS NOT NULL"
        ).fetchall()[0][0]
    )
    if not union or not registered:
        return 0, registered
    early = con.execute(
        f"""
        SELECT count(DISTINCT p.patient_id)
        FROM ({union}) e JOIN pts p USING (patient_id)
        WHERE e.d < p.registration_date - INTERVAL {YEARS_BEFORE_REGISTRATION} YEAR
        """
    ).fetchall()[0][0]
    return int(early), registered


def date_notes(checks: list[DateCheck], reference: dt.date | None) -> list[str]:
    """The mapping report's line: every rule's count, flagged ones marked."""
    if not checks:
        return []
    on = "" if reference is None else f" (reference date {reference.isoformat()})"
    counts = "; ".join(
        c.sentence() + (" [warning]" if c.flagged else "") for c in checks
    )
    return [f"date checks{on}: {counts}"]


def warn_dates(checks: list[DateCheck], source: str) -> None:
    """One ``DataQualityWarning`` per flagged rule: its name and counts only."""
    for c in checks:
        if c.flagged:
            warn_caller(
                f"{source}: date check {c.sentence()} - {DATE_CHECKS[c.rule]}. "
                "Per-person date shifting in a de-identified extract looks like "
                "this (and, for the age rules, a source missing its deaths): see "
                "'Date-shifted extracts' in docs/sources.md.",
                DataQualityWarning,
            )
