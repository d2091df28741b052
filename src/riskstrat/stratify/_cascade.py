"""The seed's "adapting to capacity" step: how many each rule adds, per locality."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.stratify._capacity import as_localities
from riskstrat.stratify._caseloads import RULE_NAMES
from riskstrat.stratify._settings import StratifySettings

__all__ = ["CASCADE_SCHEMA", "rule_cascade"]

#: One row per locality and rule, in the seed's priority order.
CASCADE_SCHEMA = pa.schema(
    [
        pa.field("locality", pa.string()),
        pa.field("step", pa.int64(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("meets", pa.int64(), nullable=False),
        pa.field("adds", pa.int64(), nullable=False),
        pa.field("cumulative", pa.int64(), nullable=False),
        pa.field("unknown", pa.int64(), nullable=False),
        pa.field("listable", pa.int64()),
        pa.field("fits", pa.bool_()),
        pa.field("over_by", pa.int64()),
    ]
)


def rule_cascade(
    features: pa.Table,
    *,
    localities: pa.Table
    | str
    | os.PathLike[str]
    | Sequence[Mapping[str, object]]
    | None = None,
    settings: StratifySettings | None = None,
) -> pa.Table:
    """How many people each seed rule adds, cumulatively, against capacity.

    Seed 003 asks localities to apply its case-finding rules in priority order
    and to "adjust the criteria searched against according to their case
    management capacity". This is that table: for each locality and each rule
    in order, the people aged ``settings.min_age`` or over who meet it
    (``meets``), those it adds to the ones found by the earlier rules
    (``adds``), the running total (``cumulative``), and whether the running
    total fits the locality's listable places (capacity less reserve).

    Parameters
    ----------
    features : pyarrow.Table
        A feature table of one ``as_of`` (``age``, ``locality``, ``rule_*``).
    localities : table, path or list of dict, default=None
        Capacity (:func:`read_localities`); None leaves ``listable``, ``fits``
        and ``over_by`` null.
    settings : StratifySettings, default=None
        ``min_age``.

    Returns
    -------
    pyarrow.Table
        :data:`CASCADE_SCHEMA`, by locality (null locality last) and step.
        ``unknown`` counts people for whom the rule could not be computed (its
        source table absent): they are not counted as meeting it.

    Examples
    --------
    >>> f = pa.table({"age": [80, 70, 90, 60], "locality": ["X"] * 4,
    ...     "rule_frail_admission": [True, False, False, True],
    ...     "rule_two_admissions": [True, True, False, True],
    ...     "rule_care_home": [None, None, None, None]})
    >>> t = rule_cascade(f, localities=[{"locality": "X", "case_managers_fte": 0.02,
    ...                                  "caseload_per_fte": 50, "reserve_share": 0}])
    >>> for row in t.select(["rule", "adds", "cumulative", "fits"]).to_pylist()[:3]:
    ...     print(row)
    {'rule': 'rule_frail_admission', 'adds': 1, 'cumulative': 1, 'fits': True}
    {'rule': 'rule_two_admissions', 'adds': 1, 'cumulative': 2, 'fits': False}
    {'rule': 'rule_care_home', 'adds': 0, 'cumulative': 2, 'fits': False}
    >>> t["unknown"].to_pylist()[:3]
    [0, 0, 3]
    """
    settings = StratifySettings() if settings is None else settings
    for column in ("age", "locality"):
        if column not in features.column_names:
            raise ValueError(
                f"rule_cascade: the features table has no `{column}` column."
            )
    old = np.asarray(
        pc.fill_null(pc.greater_equal(features["age"], settings.min_age), False)
    )
    people = features.filter(pa.array(old))
    loc = np.asarray(people["locality"].to_pylist(), dtype=object)
    listable: dict[str, int] = {}
    if localities is not None:
        places = as_localities(localities, settings)
        listable = dict(
            zip(
                places["locality"].to_pylist(),
                places["listable"].to_pylist(),
                strict=True,
            )
        )
    names = sorted({x for x in loc if x is not None}) + (
        [None] if any(x is None for x in loc) else []
    )
    rows = []
    for name in names:
        at = np.array([x == name for x in loc], dtype=bool)
        found = np.zeros(int(at.sum()), dtype=bool)
        for step, rule in enumerate(RULE_NAMES, start=1):
            if rule in people.column_names:
                values = pc.cast(people[rule], pa.bool_()).filter(pa.array(at))
                unknown = values.null_count
                meets = np.asarray(pc.fill_null(values, False), dtype=bool)
            else:
                unknown = int(at.sum())
                meets = np.zeros_like(found)
            adds = int((meets & ~found).sum())
            found |= meets
            cumulative = int(found.sum())
            cap = listable.get(name) if name is not None else None
            rows.append(
                {
                    "locality": name,
                    "step": step,
                    "rule": rule,
                    "meets": int(meets.sum()),
                    "adds": adds,
                    "cumulative": cumulative,
                    "unknown": unknown,
                    "listable": cap,
                    "fits": None if cap is None else cumulative <= cap,
                    "over_by": None if cap is None else max(0, cumulative - cap),
                }
            )
    return pa.Table.from_pylist(rows, schema=CASCADE_SCHEMA)
