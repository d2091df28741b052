"""Tiny literal tables for the stratify and alerts tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from riskstrat.sources import CONTRACT, Tables


def with_as_of(table: pa.Table, as_of: dt.date) -> pa.Table:
    """Add the `as_of` key column feature tables carry (for literal tables)."""
    if "as_of" in table.column_names:
        return table
    return table.add_column(1, "as_of", pa.array([as_of] * table.num_rows, pa.date32()))


def canonical(name: str, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CONTRACT[name].arrow_schema())


def tables(**rows: list[dict]) -> Tables:
    """A Tables object from lists of row dicts; patients get defaults filled."""
    patients = [
        {"birth_date": dt.date(1940, 1, 1), "sex": "female", **r}
        for r in rows.pop("patients", [])
    ]
    return Tables(
        patients=canonical("patients", patients),
        admissions=canonical("admissions", rows.pop("admissions", [])),
        **{name: canonical(name, r) for name, r in rows.items()},
    )


def features(as_of: dt.date, rows: list[dict]) -> pa.Table:
    """A minimal feature table: patient_id, as_of, age, locality and rule columns."""
    rules = (
        "rule_frail_admission",
        "rule_two_admissions",
        "rule_care_home",
        "rule_polypharmacy",
        "rule_nomination",
    )
    out = []
    for r in rows:
        row = {"age": 80, "locality": "X", **dict.fromkeys(rules, False), **r}
        met = [i + 1 for i, k in enumerate(rules) if row[k]]
        row.setdefault("essex_priority", min(met) if met else None)
        row.setdefault("essex_eligible", bool(met))
        out.append(row)
    schema = pa.schema(
        [
            ("patient_id", pa.string()),
            ("age", pa.int64()),
            ("locality", pa.string()),
            *[(k, pa.bool_()) for k in rules],
            ("essex_eligible", pa.bool_()),
            ("essex_priority", pa.int64()),
        ]
    )
    table = pa.Table.from_pylist(
        [{f: r.get(f) for f in schema.names} for r in out], schema=schema
    )
    return with_as_of(table, as_of)


def scores(as_of: dt.date, risk: dict[str, float | None], **extra: dict) -> pa.Table:
    ids = sorted(risk)
    cols = {
        "patient_id": pa.array(ids, pa.string()),
        "as_of": pa.array([as_of] * len(ids), pa.date32()),
        "risk": pa.array([risk[i] for i in ids], pa.float64()),
        "model_name": pa.array(["test"] * len(ids)),
        "model_version": pa.array(["1"] * len(ids)),
    }
    for name, values in extra.items():
        cols[name] = pa.array([values.get(i) for i in ids], pa.float64())
    return pa.table(cols)
