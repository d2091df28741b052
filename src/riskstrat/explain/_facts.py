"""Facts from a person's own record that a reason can cite (events before ``as_of``).

Only the people asked for are read: every table is filtered to their ids (and to
events strictly before ``as_of``) before anything is turned into Python objects.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.features import FeatureSpec

__all__: list[str] = []

_CARE_HOMES = ("residential_home", "nursing_home")


@dataclass
class Admission:
    """One hospital spell, as the reasons need it."""

    admitted: dt.date
    discharged: dt.date | None
    emergency: bool | None
    codes: list[str]


@dataclass
class Record:
    """What the canonical tables say about one person before ``as_of``."""

    admissions: list[Admission] = field(default_factory=list)
    drugs: int | None = None
    items: int | None = None
    latest_issue: dt.date | None = None
    residence: tuple[str, dt.date] | None = None
    nomination: tuple[dt.date, str | None] | None = None


def _subset(table: pa.Table, ids: pa.Array, date_col: str, before: dt.date, start=None):
    d = table[date_col]
    keep = pc.less(d, pa.scalar(before, pa.date32()))
    if start is not None:
        keep = pc.and_(keep, pc.greater_equal(d, pa.scalar(start, pa.date32())))
    table = table.filter(keep)
    return table.filter(pc.is_in(table["patient_id"], value_set=ids))


def read_records(
    tables, ids: list[str], *, as_of: dt.date, spec: FeatureSpec
) -> tuple[dict[str, Record], frozenset[str]]:
    """Each person's record (only ``ids``), and the tables that are absent."""
    absent = frozenset(getattr(tables, "absent", ()) or ())
    value_set = pa.array(ids, pa.string())
    records: dict[str, Record] = defaultdict(Record)

    adm = _subset(tables.admissions, value_set, "admission_date", as_of)
    adm = adm.sort_by([("patient_id", "ascending"), ("admission_date", "ascending")])
    sec = (
        adm["secondary_diagnoses"].to_pylist()
        if "secondary_diagnoses" in adm.column_names
        else [None] * adm.num_rows
    )
    for pid, a, d, e, p, s in zip(
        adm["patient_id"].to_pylist(),
        adm["admission_date"].to_pylist(),
        adm["discharge_date"].to_pylist(),
        adm["emergency"].to_pylist(),
        adm["primary_diagnosis"].to_pylist(),
        sec,
        strict=True,
    ):
        codes = [c for c in [p, *(s or [])] if c]
        records[pid].admissions.append(Admission(a, d, e, codes))

    if "prescriptions" not in absent:
        start = as_of - dt.timedelta(days=spec.drug_days)
        rx = _subset(tables.prescriptions, value_set, "issue_date", as_of, start)
        codes = rx["drug_code"]
        if pa.types.is_dictionary(codes.type):  # chunks may carry other dictionaries
            codes = pc.cast(codes, codes.type.value_type)
        rx = pa.table(
            {
                "patient_id": rx["patient_id"],
                "drug_code": codes,
                "issue_date": rx["issue_date"],
            }
        )
        agg = rx.group_by("patient_id").aggregate(
            [
                ("drug_code", "count_distinct"),
                ("drug_code", "count"),
                ("issue_date", "max"),
            ]
        )
        for pid, n, items, last in zip(
            agg["patient_id"].to_pylist(),
            agg["drug_code_count_distinct"].to_pylist(),
            agg["drug_code_count"].to_pylist(),
            agg["issue_date_max"].to_pylist(),
            strict=True,
        ):
            r = records[pid]
            r.drugs, r.items, r.latest_issue = n, items, last

    if "residences" not in absent:
        res = _subset(tables.residences, value_set, "start_date", as_of)
        end = res["end_date"]
        current = pc.or_kleene(
            pc.is_null(end), pc.greater_equal(end, pa.scalar(as_of, pa.date32()))
        )
        res = res.filter(current).sort_by(
            [("patient_id", "ascending"), ("start_date", "ascending")]
        )
        for pid, start_date, kind in zip(
            res["patient_id"].to_pylist(),
            res["start_date"].to_pylist(),
            res["residence_type"].to_pylist(),
            strict=True,
        ):
            records[pid].residence = (kind, start_date)  # the latest start wins

    if "nominations" not in absent:
        nom = _subset(tables.nominations, value_set, "date", as_of)
        nom = nom.sort_by([("patient_id", "ascending"), ("date", "ascending")])
        reason = (
            nom["reason"].to_pylist()
            if "reason" in nom.column_names
            else [None] * nom.num_rows
        )
        for pid, day, why in zip(
            nom["patient_id"].to_pylist(), nom["date"].to_pylist(), reason, strict=True
        ):
            records[pid].nomination = (day, why)  # the latest wins
    return dict(records), absent


def bed_days(a: Admission, as_of: dt.date) -> int:
    """Bed days of a spell up to ``as_of`` (a same-day spell is 0)."""
    end = a.discharged if a.discharged is not None and a.discharged < as_of else as_of
    return (end - a.admitted).days


def frailty_events(
    record: Record, *, as_of: dt.date, spec: FeatureSpec, age: Any
) -> list[tuple[str, str, dt.date]]:
    """The seed's frail-elderly indicator admissions: (indicator, code, date)."""
    start = as_of - dt.timedelta(days=spec.frailty_days)
    found: dict[str, tuple[str, str, dt.date]] = {}
    for a in record.admissions:
        if a.admitted < start:
            continue
        for raw in a.codes:
            code = raw.replace(".", "").upper()
            c3, c4 = code[:3], code[:4]
            hit = None
            if c3 == "E86":
                hit = ("dehydration", c3)
            elif "W00" <= c3 <= "W19":
                hit = ("fall", c3)
            elif c4 == "K590":
                hit = ("constipation", "K59.0")
            elif c3 == "R11" and age is not None and age > spec.nausea_over_age:
                hit = ("nausea_vomiting", c3)
            elif c4 == "N390":
                hit = ("urinary_tract_infection", "N39.0")
            if hit is not None:
                found[hit[0]] = (hit[0], hit[1], a.admitted)  # latest per indicator
    return sorted(found.values(), key=lambda t: (t[2], t[0]), reverse=True)


def is_care_home(kind: str | None) -> bool:
    """A residential or nursing home."""
    return kind in _CARE_HOMES
