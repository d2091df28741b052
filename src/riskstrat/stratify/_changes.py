"""Who left the lists since the previous run (or since enrolment), why and when."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

__all__ = ["CHANGES_SCHEMA", "list_changes"]

#: One row per person who left the lists or moved locality.
CHANGES_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("locality", pa.string()),
        pa.field("previous_list", pa.string(), nullable=False),
        pa.field("change", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("date", pa.date32()),
        pa.field("new_locality", pa.string()),
        pa.field("detail", pa.string(), nullable=False),
    ]
)


def _patients(tables: object | None) -> dict[str, dict]:
    if tables is None:
        return {}
    patients = tables["patients"]  # type: ignore[index]
    cols = [
        c
        for c in ("patient_id", "death_date", "deregistration_date")
        if c in patients.column_names
    ]
    return {r["patient_id"]: r for r in patients.select(cols).to_pylist()}


def list_changes(
    tiers: pa.Table,
    excluded: pa.Table,
    *,
    as_of: dt.date,
    previous: pa.Table | None,
    enrolled: pa.Table,
    tables: object | None,
) -> pa.Table:
    """People who were listed (previous run) or enrolled and are no longer listed.

    Parameters
    ----------
    tiers : pyarrow.Table
        This run's eligible people (``Caseloads.tiers``).
    excluded : pyarrow.Table
        This run's excluded people, with their reason.
    as_of : datetime.date
        This run's date.
    previous : pyarrow.Table or None
        The previous run's ``Caseloads.tiers`` (None = no previous run).
    enrolled : pyarrow.Table
        Open enrolments on ``as_of`` (``patient_id``, ``locality``).
    tables : riskstrat.sources.Tables or None
        ``patients`` says who died or deregistered, and when.

    Returns
    -------
    pyarrow.Table
        :data:`CHANGES_SCHEMA`, sorted by ``patient_id``. ``change`` is ``left``
        (reason ``died``, ``deregistered`` — moved away or left the practice —,
        an exclusion reason such as ``paused_after_screening``, or
        ``not_eligible`` when the person is no longer in the feature table for
        a reason the patients table does not give) or ``moved_locality``.
        ``date`` is when it happened, where known.
    """
    before: dict[str, tuple[str | None, str]] = {}
    if previous is not None:
        for r in previous.select(["patient_id", "locality", "list"]).to_pylist():
            if r["list"] in ("caseload", "waiting"):
                before[r["patient_id"]] = (r["locality"], r["list"])
    for r in enrolled.select(["patient_id", "locality"]).to_pylist():
        before.setdefault(r["patient_id"], (r["locality"], "enrolled"))
    if not before:
        return CHANGES_SCHEMA.empty_table()
    now = {
        r["patient_id"]: r
        for r in tiers.select(["patient_id", "locality", "list"]).to_pylist()
    }
    why = {
        r["patient_id"]: r
        for r in excluded.select(
            ["patient_id", "reason", "detail", "since"]
        ).to_pylist()
    }
    patients = _patients(tables)
    rows = []
    for pid in sorted(before):
        locality, listed = before[pid]
        row = {
            "patient_id": pid,
            "as_of": as_of,
            "locality": locality,
            "previous_list": listed,
            "change": "left",
            "date": None,
            "new_locality": None,
        }
        current = now.get(pid)
        if current is not None:
            if current["list"] == "excluded" and listed != "enrolled":
                ex = why[pid]
                rows.append(
                    {
                        **row,
                        "reason": ex["reason"],
                        "detail": ex["detail"],
                        "date": ex["since"],
                    }
                )
            elif current["locality"] != locality and listed != "enrolled":
                rows.append(
                    {
                        **row,
                        "change": "moved_locality",
                        "reason": "moved_locality",
                        "new_locality": current["locality"],
                        "detail": f"moved from {locality} to {current['locality']}",
                    }
                )
            continue
        person = patients.get(pid, {})
        death = person.get("death_date")
        dereg = person.get("deregistration_date")
        if death is not None and death < as_of:
            rows.append({**row, "reason": "died", "date": death, "detail": "died"})
        elif dereg is not None and dereg < as_of:
            rows.append(
                {
                    **row,
                    "reason": "deregistered",
                    "date": dereg,
                    "detail": "left the practice or moved out of the area",
                }
            )
        else:
            rows.append(
                {
                    **row,
                    "reason": "not_eligible",
                    "detail": "no longer alive and registered in the feature table",
                }
            )
    return pa.Table.from_pylist(rows, schema=CHANGES_SCHEMA)
