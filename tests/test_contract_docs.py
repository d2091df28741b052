"""docs/data-contract.md and riskstrat.sources.CONTRACT say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

from riskstrat.sources import CONTRACT, RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def _tables(text: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^## (\w+)$", line)
        if m:
            current = m.group(1)
            continue
        if current and line.startswith("| ") and not line.startswith("| column"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 6:
                keys = [
                    "column",
                    "type",
                    "required",
                    "nullable",
                    "allowed",
                    "description",
                ]
                out.setdefault(current, []).append(dict(zip(keys, cells, strict=True)))
    return out


def test_every_table_and_column_is_documented_with_its_type_and_flags():
    doc = _tables(DOC.read_text())
    assert set(CONTRACT) <= set(doc)
    for name, schema in CONTRACT.items():
        rows = {r["column"]: r for r in doc[name]}
        assert list(rows) == list(schema.names), name
        for col in schema.columns:
            r = rows[col.name]
            dtype = f"{col.dtype} (dictionary)" if col.dictionary else col.dtype
            assert r["type"] == dtype, (name, col.name)
            assert r["required"] == ("yes" if col.required else "no"), (name, col.name)
            assert r["nullable"] == ("yes" if col.nullable else "no"), (name, col.name)
            for value in col.allowed or ():
                assert value in r["allowed"], (name, col.name, value)


def test_every_rule_is_documented_in_priority_order():
    text = DOC.read_text()
    found = re.findall(r"^\| (\d+) \| `(\w+)` \|", text, flags=re.M)
    assert [rule for _, rule in found] == list(RULES)
    assert [int(i) for i, _ in found] == list(range(1, len(RULES) + 1))
