"""Charlson and Elixhauser conditions from ICD-10 (Quan et al. 2005), shipped as data.

Source: Quan H, Sundararajan V, Halfon P, et al. Coding algorithms for defining
comorbidities in ICD-9-CM and ICD-10 administrative data. Med Care
2005;43(11):1130-9, Table 2 (ICD-10 columns). Charlson weights are the original
Charlson (1987) weights. The lists live in ``data/quan2005_icd10.csv`` in a compact
form: ``;``-separated codes without dots, where ``A-B`` is an inclusive range of
codes of the same length (``I425-I429``, ``C00-C26``). A code matches when a
diagnosis starts with it (``I50`` matches ``I500``, ``I509``).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pyarrow as pa

__all__ = ["CHARLSON", "ELIXHAUSER", "code_map", "expand_codes"]


def expand_codes(spec: str) -> list[str]:
    """Expand the compact notation into code prefixes.

    Examples
    --------
    >>> expand_codes("I425-I427;I43;C00-C02")
    ['I425', 'I426', 'I427', 'I43', 'C00', 'C01', 'C02']
    """
    out: list[str] = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        if "-" not in part:
            out.append(part)
            continue
        lo, hi = part.split("-")
        if len(lo) != len(hi) or lo[0] != hi[0]:
            raise ValueError(f"bad code range {part!r}")
        width = len(lo) - 1
        for k in range(int(lo[1:]), int(hi[1:]) + 1):
            out.append(f"{lo[0]}{k:0{width}d}")
    return out


@cache
def _rows() -> tuple[tuple[str, str, int | None, tuple[str, ...]], ...]:
    text = (
        resources.files("riskstrat.features")
        .joinpath("data/quan2005_icd10.csv")
        .read_text(encoding="utf-8")
    )
    rows = []
    for r in csv.DictReader(text.splitlines()):
        weight = int(r["weight"]) if r["weight"] else None
        rows.append(
            (r["system"], r["condition"], weight, tuple(expand_codes(r["codes"])))
        )
    return tuple(rows)


CHARLSON: dict[str, int] = {c: w or 0 for s, c, w, _ in _rows() if s == "charlson"}
ELIXHAUSER: tuple[str, ...] = tuple(c for s, c, _, _ in _rows() if s == "elixhauser")


def code_map() -> pa.Table:
    """One row per (system, condition, prefix) with the prefix length (3 or 4)."""
    system, condition, prefix, length = [], [], [], []
    for s, c, _, codes in _rows():
        for code in codes:
            system.append(s)
            condition.append(c)
            prefix.append(code)
            length.append(len(code))
    return pa.table(
        {
            "system": system,
            "condition": condition,
            "prefix": prefix,
            "prefix_len": pa.array(length, pa.int32()),
        }
    )
