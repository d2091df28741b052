"""Scoping: expected case-management numbers, case managers needed, their cost.

The seed's first case-finding step ("Scoping") shares an indicative total of
case-management patients between areas by weighted capitation (its Table one),
and its workforce section prices case managers with Agenda for Change pay bands
(its Table Two). Both tables ship as data files in ``riskstrat/stratify/data``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

import pyarrow as pa

__all__ = [
    "AREAS_SCHEMA",
    "COSTS_SCHEMA",
    "Scope",
    "pay_bands",
    "round_half_up",
    "scope",
    "table_one",
]

#: Per area: expected patients, first tranche, case managers needed.
AREAS_SCHEMA = pa.schema(
    [
        pa.field("area", pa.string(), nullable=False),
        pa.field("weighted_capitation", pa.float64(), nullable=False),
        pa.field("expected_patients", pa.int64(), nullable=False),
        pa.field("tranche", pa.int64(), nullable=False),
        pa.field("case_managers_fte", pa.float64(), nullable=False),
        pa.field("case_managers", pa.int64(), nullable=False),
        pa.field("tranche_case_managers", pa.int64(), nullable=False),
    ]
)

#: Cost of the case managers needed, by pay band.
COSTS_SCHEMA = pa.schema(
    [
        pa.field("role", pa.string(), nullable=False),
        pa.field("band", pa.string(), nullable=False),
        pa.field("pay_min", pa.int64(), nullable=False),
        pa.field("pay_max", pa.int64(), nullable=False),
        pa.field("case_managers", pa.int64(), nullable=False),
        pa.field("cost_min", pa.int64(), nullable=False),
        pa.field("cost_max", pa.int64(), nullable=False),
        pa.field("tranche_case_managers", pa.int64(), nullable=False),
        pa.field("tranche_cost_min", pa.int64(), nullable=False),
        pa.field("tranche_cost_max", pa.int64(), nullable=False),
    ]
)


def _read_data(name: str) -> list[dict[str, str]]:
    text = resources.files("riskstrat.stratify").joinpath(f"data/{name}").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def table_one() -> pa.Table:
    """Seed 003's Table one as printed: expected case-management patients in Essex.

    Returns
    -------
    pyarrow.Table
        ``pct``, ``area``, ``level`` (``locality``, ``pct`` or ``total``),
        ``weighted_capitation`` (%), ``expected_patients``, ``tranche_2005_06``
        (the 25 % first tranche), one row per printed row.

    Examples
    --------
    >>> t = table_one()
    >>> total = t.filter(pa.compute.equal(t["level"], "total")).to_pylist()[0]
    >>> total["expected_patients"], total["tranche_2005_06"]
    (7644, 1911)
    """
    rows = _read_data("essex_table_one.csv")
    return pa.table(
        {
            "pct": [r["pct"] for r in rows],
            "area": [r["area"] for r in rows],
            "level": [r["level"] for r in rows],
            "weighted_capitation": pa.array(
                [float(r["weighted_capitation"]) for r in rows], pa.float64()
            ),
            "expected_patients": pa.array(
                [int(r["expected_patients"]) for r in rows], pa.int64()
            ),
            "tranche_2005_06": pa.array(
                [int(r["tranche_2005_06"]) for r in rows], pa.int64()
            ),
        }
    )


def pay_bands() -> pa.Table:
    """Seed 003's Table Two: Agenda for Change pay bands (2005, £ a year).

    Examples
    --------
    >>> bands = pay_bands()
    >>> level_7 = bands.filter(pa.compute.equal(bands["band"], "Level 7"))
    >>> level_7["pay_min"][0].as_py(), level_7["pay_max"][0].as_py()
    (26106, 34417)
    """
    rows = _read_data("agenda_for_change_2005.csv")
    return pa.table(
        {
            "role": [r["role"] for r in rows],
            "band": [r["band"] for r in rows],
            "pay_min": pa.array([int(r["pay_min"]) for r in rows], pa.int64()),
            "pay_max": pa.array([int(r["pay_max"]) for r in rows], pa.int64()),
        }
    )


def round_half_up(value: float) -> int:
    """Round to the nearest whole number, halves up (as the seed's tables do).

    Examples
    --------
    >>> round_half_up(68.5), round_half_up(1911.0), round_half_up(2.49)
    (69, 1911, 2)
    """
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Whole numbers proportional to ``weights`` that add up to ``total``."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("scope: the weighted capitation values add up to 0.")
    exact = [total * w / whole for w in weights]
    out = [math.floor(x) for x in exact]
    left = total - sum(out)
    # ties broken by order of the input, so the result is deterministic
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:left]:
        out[i] += 1
    return out


@dataclass(frozen=True)
class Scope:
    """The result of :func:`scope`.

    Attributes
    ----------
    areas : pyarrow.Table
        :data:`AREAS_SCHEMA`, one row per area, in input order.
    costs : pyarrow.Table
        :data:`COSTS_SCHEMA`: what the case managers needed (all areas, each
        area rounded up to whole posts) would cost at each pay band.
    total_patients : int
        The indicative total shared between the areas.
    tranche : int
        ``tranche_share`` of the total, rounded half up (the seed's 1,911).
    """

    areas: pa.Table
    costs: pa.Table
    total_patients: int
    tranche: int


def _capitation_rows(
    capitation: pa.Table | str | os.PathLike[str] | Sequence[Mapping[str, object]],
) -> list[tuple[str, float]]:
    if isinstance(capitation, str | os.PathLike):
        path = Path(capitation)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [line for line in handle if not line.startswith("#")]
        source = path.name
        rows: list[Mapping[str, object]] = list(csv.DictReader(lines))
    elif isinstance(capitation, pa.Table):
        source, rows = "capitation", capitation.to_pylist()
    else:
        source, rows = "capitation", list(capitation)
    out = []
    for i, row in enumerate(rows, start=1):
        area, weight = row.get("area"), row.get("weighted_capitation")
        if area is None or str(area).strip() == "":
            raise ValueError(f"{source}: row {i}, column area: empty.")
        try:
            value = float(str(weight))
        except ValueError:
            raise ValueError(
                f"{source}: row {i}, column weighted_capitation: not a number. "
                f"Got {weight!r}."
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"{source}: row {i}, column weighted_capitation: must be a number "
                f">= 0. Got {weight!r}."
            )
        out.append((str(area).strip(), value))
    if not out:
        raise ValueError(f"{source}: no areas.")
    return out


def scope(
    capitation: pa.Table | str | os.PathLike[str] | Sequence[Mapping[str, object]],
    *,
    total_patients: int,
    caseload_per_fte: int = 50,
    tranche_share: float = 0.25,
    bands: pa.Table | None = None,
) -> Scope:
    """Expected case-management patients per area, case managers needed, and cost.

    Parameters
    ----------
    capitation : pyarrow.Table, CSV path or list of dict
        ``area`` and ``weighted_capitation`` (a share, any scale: it is
        normalised by its sum). A CSV may have ``#`` comment lines.
    total_patients : int
        The indicative number of case-management patients for all the areas
        together (seed 003: 7,644 for Essex, its share of 250,000 in England;
        or the number a search of the records found).
    caseload_per_fte : int, default=50
        Patients per full-time case manager (seed 003: 50-80; seed 001: 30-40).
    tranche_share : float, default=0.25
        The first tranche (seed 003: localities cover 25 % in 2005/06).
    bands : pyarrow.Table, default=None
        Pay bands (``role, band, pay_min, pay_max``); the seed's Table Two by
        default (:func:`pay_bands`).

    Returns
    -------
    Scope

    Notes
    -----
    Areas get whole numbers of patients in proportion to their weighted
    capitation that add up exactly to ``total_patients`` (largest remainder).
    An area's tranche is ``tranche_share`` of its patients, rounded half up;
    the overall tranche is ``tranche_share`` of the total, rounded half up (so
    the area tranches may not add up to it, as in the seed's own table).
    Case managers: ``expected / caseload_per_fte`` as FTE, and rounded up to
    whole posts per area. Costs are the whole posts times each band's pay range.

    Examples
    --------
    >>> s = scope([{"area": "A", "weighted_capitation": 60},
    ...            {"area": "B", "weighted_capitation": 40}], total_patients=1001)
    >>> for row in s.areas.select(["area", "expected_patients", "tranche",
    ...                            "case_managers"]).to_pylist():
    ...     print(row)
    {'area': 'A', 'expected_patients': 601, 'tranche': 150, 'case_managers': 13}
    {'area': 'B', 'expected_patients': 400, 'tranche': 100, 'case_managers': 8}
    >>> s.tranche
    250
    """
    if isinstance(total_patients, bool) or not isinstance(total_patients, int):
        raise TypeError(
            "The `total_patients` parameter of scope must be an int. "
            f"Got {total_patients!r} instead."
        )
    if total_patients < 0:
        raise ValueError(
            "The `total_patients` parameter of scope must be >= 0. "
            f"Got {total_patients!r} instead."
        )
    if not caseload_per_fte >= 1:
        raise ValueError(
            "The `caseload_per_fte` parameter of scope must be >= 1. "
            f"Got {caseload_per_fte!r} instead."
        )
    if not 0 < tranche_share <= 1:
        raise ValueError(
            "The `tranche_share` parameter of scope must be in (0, 1]. "
            f"Got {tranche_share!r} instead."
        )
    rows = _capitation_rows(capitation)
    expected = _largest_remainder(total_patients, [w for _, w in rows])
    tranche = [round_half_up(tranche_share * e) for e in expected]
    fte = [e / caseload_per_fte for e in expected]
    posts = [math.ceil(f - 1e-9) for f in fte]
    tranche_posts = [math.ceil(t / caseload_per_fte - 1e-9) for t in tranche]
    areas = pa.table(
        {
            "area": [a for a, _ in rows],
            "weighted_capitation": [w for _, w in rows],
            "expected_patients": expected,
            "tranche": tranche,
            "case_managers_fte": fte,
            "case_managers": posts,
            "tranche_case_managers": tranche_posts,
        },
        schema=AREAS_SCHEMA,
    )
    bands = pay_bands() if bands is None else bands
    total_posts, total_tranche_posts = sum(posts), sum(tranche_posts)
    costs = pa.Table.from_pylist(
        [
            {
                "role": b["role"],
                "band": b["band"],
                "pay_min": b["pay_min"],
                "pay_max": b["pay_max"],
                "case_managers": total_posts,
                "cost_min": total_posts * b["pay_min"],
                "cost_max": total_posts * b["pay_max"],
                "tranche_case_managers": total_tranche_posts,
                "tranche_cost_min": total_tranche_posts * b["pay_min"],
                "tranche_cost_max": total_tranche_posts * b["pay_max"],
            }
            for b in bands.to_pylist()
        ],
        schema=COSTS_SCHEMA,
    )
    return Scope(
        areas=areas,
        costs=costs,
        total_patients=total_patients,
        tranche=round_half_up(tranche_share * total_patients),
    )
