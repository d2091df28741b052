"""Property: whatever is done to the input, read = accepted + rejected, and what is
accepted honours the contract."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _support.canonical import VALID, load_quietly, write_folder
from riskstrat.sources import CONTRACT, TABLE_NAMES

GARBAGE = [
    "",
    " ",
    "x",
    "NULL",
    "2020-02-30",
    "1800-01-01",
    "2099-12-31",
    "2021-06-01",
    "-1",
    "0",
    "11",
    "true",
    "maybe",
    "25:00",
    "12:00",
    "p404",
    "p1",
    "p2",
    "E86.X|W19",
    "female",
    "nursing_home",
    "hotel",
    '"quoted, comma"',
    "é",
    "1e3",
]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _render(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@st.composite
def mutilated(draw):
    tables = {name: _rows(text) for name, text in VALID.items()}
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(list(tables)))
        body = tables[name]
        action = draw(st.sampled_from(["cell", "cell", "cell", "dup", "drop"]))
        if len(body) < 2:
            continue
        i = draw(st.integers(1, len(body) - 1))
        if action == "cell":
            j = draw(st.integers(0, len(body[0]) - 1))
            body[i][j] = draw(st.sampled_from(GARBAGE))
        elif action == "dup":
            body.append(list(body[i]))
        else:
            del body[i]
    return {name: _render(rows) for name, rows in tables.items()}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(files=mutilated(), extract=st.sampled_from([None, "2023-01-01"]))
def test_read_equals_accepted_plus_rejected_and_accepted_rows_are_valid(files, extract):
    import datetime as dt

    extract_date = None if extract is None else dt.date.fromisoformat(extract)
    with tempfile.TemporaryDirectory() as tmp:
        t = load_quietly(write_folder(Path(tmp), files), extract_date=extract_date)
    for row in t.counts.to_pylist():
        src = files.get(row["table"])
        n_lines = len(_rows(src)) - 1 if src is not None else 0
        assert row["read"] == n_lines
        assert row["read"] == row["accepted"] + row["rejected"]
        # Admissions are counted in stays; accepted stays may join into spells.
        joined = (t.joined_stays or 0) if row["table"] == "admissions" else 0
        assert t[row["table"]].num_rows + joined == row["accepted"]
    assert t.rejects.num_rows == sum(r["rejected"] for r in t.counts.to_pylist())
    # Rejected row numbers are unique within a table.
    keys = list(
        zip(t.rejects["table"].to_pylist(), t.rejects["row"].to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys))
    # Accepted rows honour the contract.
    ids = set(t.patients["patient_id"].to_pylist())
    assert len(ids) == t.patients.num_rows
    deaths = dict(
        zip(
            t.patients["patient_id"].to_pylist(),
            t.patients["death_date"].to_pylist(),
            strict=True,
        )
    )
    for name in TABLE_NAMES:
        schema = CONTRACT[name]
        table = t[name]
        for col in schema.columns:
            if not col.nullable:
                assert table[col.name].null_count == 0, (name, col.name)
            if col.allowed is not None:
                values = set(pc.drop_null(table[col.name]).to_pylist())
                assert values <= set(col.allowed), (name, col.name, values)
        if name != "patients":
            assert set(table["patient_id"].to_pylist()) <= ids
            for pid, when in zip(
                table["patient_id"].to_pylist(),
                table[schema.event_date].to_pylist(),
                strict=True,
            ):
                death = deaths[pid]
                assert death is None or when <= death
        if schema.end_date is not None:
            for a, b in zip(
                table[schema.event_date].to_pylist(),
                table[schema.end_date].to_pylist(),
                strict=True,
            ):
                assert b is None or b >= a
