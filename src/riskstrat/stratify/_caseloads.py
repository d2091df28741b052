"""Caseloads per locality: who fits the staff, who waits, who is excluded, and why."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.stratify._capacity import LOCALITIES_SCHEMA, as_localities
from riskstrat.stratify._changes import list_changes
from riskstrat.stratify._screening import open_enrolments, screening_pauses
from riskstrat.stratify._settings import StratifySettings
from riskstrat.stratify._tiers import assign_tiers

__all__ = [
    "CAPACITY_SCHEMA",
    "EXCLUDED_SCHEMA",
    "LIST_SCHEMA",
    "RULE_NAMES",
    "TIERS_SCHEMA",
    "Caseloads",
    "caseloads",
]

logger = logging.getLogger(__name__)

#: The seed's case-finding rules in priority order (feature columns).
RULE_NAMES = (
    "rule_frail_admission",
    "rule_two_admissions",
    "rule_care_home",
    "rule_polypharmacy",
    "rule_nomination",
)

#: Caseload and waiting list (one schema: ``status`` tells them apart).
LIST_SCHEMA = pa.schema(
    [
        pa.field("locality", pa.string()),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("tier", pa.string()),
        pa.field("risk", pa.float64()),
        pa.field("risk_band", pa.string()),
        pa.field("expected_bed_days", pa.float64()),
        pa.field("essex_priority", pa.int64()),
        pa.field("rules_met", pa.list_(pa.string())),
        pa.field("enrol_date", pa.date32()),
        pa.field("reasons", pa.list_(pa.string())),
    ]
)

#: Eligible people on neither list, with the reason.
EXCLUDED_SCHEMA = pa.schema(
    [
        pa.field("locality", pa.string()),
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("tier", pa.string()),
        pa.field("risk", pa.float64()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("since", pa.date32()),
    ]
)

#: Every eligible person with their tier and where they went.
TIERS_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("locality", pa.string()),
        pa.field("risk", pa.float64()),
        pa.field("share_above", pa.float64()),
        pa.field("tier", pa.string()),
        pa.field("risk_band", pa.string()),
        pa.field("enrolled", pa.bool_(), nullable=False),
        pa.field("list", pa.string(), nullable=False),
    ]
)

#: Per locality: capacity, and how many went where.
CAPACITY_SCHEMA = pa.schema(
    [
        *LOCALITIES_SCHEMA,
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("eligible", pa.int64(), nullable=False),
        pa.field("continuing", pa.int64(), nullable=False),
        pa.field("new", pa.int64(), nullable=False),
        pa.field("caseload", pa.int64(), nullable=False),
        pa.field("waiting", pa.int64(), nullable=False),
        pa.field("excluded", pa.int64(), nullable=False),
        pa.field("free_places", pa.int64(), nullable=False),
        pa.field("reserve_used", pa.int64(), nullable=False),
    ]
)

_NO_LOCALITY = "(none)"


@dataclass(frozen=True)
class Caseloads:
    """The lists of one run: caseloads, waiting lists, the excluded and changes.

    Attributes
    ----------
    as_of : datetime.date
        The run date.
    caseload : pyarrow.Table
        :data:`LIST_SCHEMA`, ``status`` ``new`` or ``continuing``; sorted by
        locality and position. ``reasons`` is null until the explain stage fills it.
    waiting : pyarrow.Table
        :data:`LIST_SCHEMA`, ``status`` ``waiting``, in the same priority order.
    excluded : pyarrow.Table
        :data:`EXCLUDED_SCHEMA`: eligible people on neither list, with the reason.
    changes : pyarrow.Table
        :data:`CHANGES_SCHEMA`: people who were on the previous lists (or
        enrolled) and left them, or moved locality, saying why and when.
    capacity : pyarrow.Table
        :data:`CAPACITY_SCHEMA`: one row per locality of the localities file.
    tiers : pyarrow.Table
        :data:`TIERS_SCHEMA`: every eligible person, tier and list (for alerts).
    """

    as_of: dt.date
    caseload: pa.Table
    waiting: pa.Table
    excluded: pa.Table
    changes: pa.Table
    capacity: pa.Table
    tiers: pa.Table

    def for_locality(self, locality: str) -> Caseloads:
        """The same result restricted to one locality."""

        def keep(table: pa.Table, column: str = "locality") -> pa.Table:
            return table.filter(pc.equal(table[column], locality))

        return Caseloads(
            as_of=self.as_of,
            caseload=keep(self.caseload),
            waiting=keep(self.waiting),
            excluded=keep(self.excluded),
            changes=self.changes.filter(
                pc.or_kleene(
                    pc.equal(self.changes["locality"], locality),
                    pc.equal(self.changes["new_locality"], locality),
                )
            ),
            capacity=keep(self.capacity),
            tiers=keep(self.tiers),
        )


def _require(table: pa.Table, what: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(
            f"caseloads: the {what} table has no {', '.join(missing)} column(s). "
            f"Found: {table.column_names}."
        )


def _one_date(table: pa.Table, what: str, as_of: dt.date) -> pa.Table:
    rows = table.filter(pc.equal(table["as_of"], pa.scalar(as_of, pa.date32())))
    if rows.num_rows == 0 and table.num_rows:
        found = sorted({str(d) for d in pc.unique(table["as_of"]).to_pylist()})
        raise ValueError(
            f"caseloads: the {what} table has no rows for as_of {as_of}. "
            f"Found as_of: {found[:5]}."
        )
    ids = rows["patient_id"]
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ValueError(
            f"caseloads: the {what} table has more than one row for some "
            f"(patient_id, as_of) keys on {as_of}."
        )
    return rows


def _column(table: pa.Table, name: str, dtype: pa.DataType) -> pa.Array:
    if name in table.column_names:
        return pc.cast(table[name], dtype).combine_chunks()
    return pa.nulls(table.num_rows, dtype)


def caseloads(
    scores: pa.Table,
    features: pa.Table,
    *,
    as_of: dt.date,
    localities: pa.Table | str | os.PathLike[str] | Sequence[dict[str, object]],
    tables: object | None = None,
    settings: StratifySettings | None = None,
    previous: Caseloads | None = None,
) -> Caseloads:
    """Build each locality's caseload, waiting list and exclusions on ``as_of``.

    Parameters
    ----------
    scores : pyarrow.Table
        ``patient_id``, ``as_of``, ``risk`` (calibrated probability; null = not
        scored) and, for ``priority="expected_bed_days"``, ``expected_bed_days``.
    features : pyarrow.Table
        The feature table of ``as_of`` (``patient_id``, ``as_of``, ``age``,
        ``locality`` and the seed-rule columns ``rule_*`` when present; a missing
        or null rule is not met): its rows are the people alive and registered
        on ``as_of``. ``essex_priority`` in the lists is recomputed from the
        rule columns (1 = frail admission ... 5 = nomination; null = none).
    as_of : datetime.date
        Run date; both tables are joined on ``(patient_id, as_of)``.
    localities : pyarrow.Table, path or list of dict
        Case managers per locality (:func:`read_localities`).
    tables : riskstrat.sources.Tables, default=None
        For open enrolments (continuity), screenings, and why people left
        (deaths, deregistrations). None = nobody enrolled, nobody screened.
    settings : StratifySettings, default=None
        Eligibility, tiers, priority, screening pause, capacity defaults.
    previous : Caseloads, default=None
        The previous run's lists: people on them who leave get a line in
        ``changes``.

    Returns
    -------
    Caseloads

    Notes
    -----
    *Eligible* people are the rows of ``features`` aged ``settings.min_age`` or
    over, plus anyone with an open enrolment (whatever their age). Each eligible
    person is in exactly one of ``caseload``, ``waiting`` and ``excluded``:

    1. Open enrolment on ``as_of`` → caseload, ``continuing``, in the locality
       of the feature table. They count against capacity first and are never
       displaced, even when they alone exceed the listable places
       (``capacity.reserve_used`` then says by how much the reserve is used).
    2. Otherwise excluded, in this order: ``no_score`` (risk null),
       ``no_expected_bed_days`` (that priority, value null), ``no_locality``,
       ``locality_not_in_file``, ``paused_after_screening`` (declined or
       unsuitable less than ``relist_after_days`` ago and no trigger since), and
       ``not_a_candidate`` (below the case-management cut, meeting no seed rule).
    3. The remaining candidates (case-management tier, or meeting a seed rule)
       are ranked by the priority and fill the free listable places of their
       locality (``listable - continuing``) as ``new``; the rest wait, in order.

    The reserve (``reserve_share`` of capacity) is never filled by this run: it
    is for people who become eligible before the next one.

    Examples
    --------
    >>> d = dt.date(2024, 1, 1)
    >>> f = pa.table({"patient_id": ["a", "b", "c", "d"], "as_of": [d] * 4,
    ...               "age": [80, 70, 90, 40], "locality": ["X"] * 4,
    ...               "rule_two_admissions": [True, True, False, True]})
    >>> s = pa.table({"patient_id": ["a", "b", "c", "d"], "as_of": [d] * 4,
    ...               "risk": [0.6, 0.4, 0.1, 0.9]})
    >>> loc = [{"locality": "X", "case_managers_fte": 0.02,
    ...         "caseload_per_fte": 50, "reserve_share": 0}]
    >>> c = caseloads(s, f, as_of=d, localities=loc)
    >>> c.caseload["patient_id"].to_pylist(), c.waiting["patient_id"].to_pylist()
    (['a'], ['b'])
    >>> c.excluded.select(["patient_id", "reason"]).to_pylist()
    [{'patient_id': 'c', 'reason': 'not_a_candidate'}]
    """
    settings = StratifySettings() if settings is None else settings
    _require(scores, "scores", ["patient_id", "as_of", "risk"])
    _require(features, "features", ["patient_id", "as_of", "age", "locality"])
    if settings.priority == "expected_bed_days":
        _require(scores, "scores", ["expected_bed_days"])
    scores = _one_date(scores, "scores", as_of)
    features = _one_date(features, "features", as_of)
    places = as_localities(localities, settings)

    fcols = {
        c: _column(features, c, dtype)
        for c, dtype in [
            ("patient_id", pa.string()),
            ("as_of", pa.date32()),
            ("age", pa.int64()),
            ("locality", pa.string()),
        ]
    }
    fcols.update({r: _column(features, r, pa.bool_()) for r in RULE_NAMES})
    people = pa.table(fcols)
    score_cols = scores.select(
        ["patient_id", "as_of", "risk"]
        + (["expected_bed_days"] if "expected_bed_days" in scores.column_names else [])
    )
    people = people.join(score_cols, ["patient_id", "as_of"], join_type="left outer")
    unmatched = pc.sum(
        pc.invert(pc.is_in(scores["patient_id"], value_set=features["patient_id"]))
    ).as_py()
    if unmatched:
        logger.info(
            "stratify: %d scored people are not in the feature table of %s (not "
            "alive and registered): not listed",
            unmatched,
            as_of,
        )
    enrolled = open_enrolments(tables, as_of=as_of)
    people = people.join(
        enrolled.select(["patient_id", "enrol_date"]),
        "patient_id",
        join_type="left outer",
    ).sort_by("patient_id")
    is_enrolled = pc.is_valid(people["enrol_date"]).to_numpy(zero_copy_only=False)
    old = np.asarray(
        pc.fill_null(pc.greater_equal(people["age"], settings.min_age), False)
    )
    eligible = people.filter(pa.array(old | is_enrolled))
    n = eligible.num_rows
    tiered = assign_tiers(eligible, settings=settings)

    pid = np.asarray(tiered["patient_id"].to_pylist(), dtype=object)
    locality = np.asarray(tiered["locality"].to_pylist(), dtype=object)
    risk = np.asarray(
        pc.fill_null(pc.cast(tiered["risk"], pa.float64()), np.nan), dtype=float
    )
    tier = np.asarray(tiered["tier"].to_pylist(), dtype=object)
    enrolled_mask = pc.is_valid(tiered["enrol_date"]).to_numpy(zero_copy_only=False)
    rule = {
        r: np.asarray(pc.fill_null(tiered[r], False), dtype=bool) for r in RULE_NAMES
    }
    # The seed's priority (1 = frail admission ... 5 = nomination), from the rule
    # columns themselves so that it always agrees with `rules_met`; 99 = none met.
    any_rule = np.zeros(n, dtype=bool)
    essex = np.full(n, 99, dtype=np.int64)
    for step, r in reversed(list(enumerate(RULE_NAMES, start=1))):
        any_rule |= rule[r]
        essex[rule[r]] = step
    if "expected_bed_days" in tiered.column_names:
        bed = np.asarray(
            pc.fill_null(pc.cast(tiered["expected_bed_days"], pa.float64()), np.nan),
            dtype=float,
        )
    else:
        bed = np.full(n, np.nan)

    # Exclusions, first reason wins; the enrolled are never excluded.
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    since: list[dt.date | None] = [None] * n
    known_localities = set(places["locality"].to_pylist())

    def exclude(mask: np.ndarray, why: str, text: str) -> None:
        pick = mask & ~enrolled_mask & (reason == "")
        reason[pick] = why
        detail[pick] = text

    exclude(np.isnan(risk), "no_score", "no risk score for this run")
    if settings.priority == "expected_bed_days":
        exclude(np.isnan(bed), "no_expected_bed_days", "no expected bed days")
    no_loc = np.array([loc is None for loc in locality], dtype=bool)
    exclude(no_loc, "no_locality", "no locality recorded")
    exclude(
        ~no_loc
        & np.array([loc not in known_localities for loc in locality], dtype=bool),
        "locality_not_in_file",
        "locality not in the localities file",
    )
    paused = screening_pauses(tables, as_of=as_of, settings=settings)
    if paused.num_rows:
        info = {
            r["patient_id"]: (r["screening_date"], r["outcome"])
            for r in paused.to_pylist()
        }
        for i in np.flatnonzero(
            np.array([p in info for p in pid], dtype=bool) & ~enrolled_mask
        ):
            if reason[i] == "":
                day, outcome = info[pid[i]]
                reason[i] = "paused_after_screening"
                detail[i] = (
                    f"{outcome} at screening on {day.isoformat()}; not listed for "
                    f"{settings.relist_after_days} days unless a new trigger"
                )
                since[i] = day
    candidate = (tier == "case_management") | any_rule
    exclude(
        ~candidate,
        "not_a_candidate",
        "below the case-management cut and meets no case-finding rule",
    )

    # Priority order: a lexsort key, last key primary.
    nominated = rule["rule_nomination"] if settings.nominations_first else np.zeros(n)
    neg_risk = np.where(np.isnan(risk), np.inf, -risk)
    keys: list[np.ndarray] = [pid.astype(str), neg_risk]
    if settings.priority == "rules":
        keys.append(essex)
    elif settings.priority == "expected_bed_days":
        keys.append(np.where(np.isnan(bed), np.inf, -bed))
    keys.append(np.where(nominated, 0, 1))
    order = np.lexsort(keys)

    status = np.full(n, "", dtype=object)
    status[enrolled_mask] = "continuing"
    listable = dict(
        zip(places["locality"].to_pylist(), places["listable"].to_pylist(), strict=True)
    )
    used = dict.fromkeys(listable, 0)
    for i in np.flatnonzero(enrolled_mask):
        if locality[i] in used:
            used[locality[i]] += 1
    for i in order:
        if status[i] or reason[i]:
            continue
        loc = locality[i]
        if used[loc] < listable[loc]:
            status[i] = "new"
            used[loc] += 1
        else:
            status[i] = "waiting"
    list_name = np.where(
        reason != "", "excluded", np.where(status == "waiting", "waiting", "caseload")
    )

    rules_met = [[r for r in RULE_NAMES if rule[r][i]] for i in range(n)]
    loc_key = np.array(
        [_NO_LOCALITY if loc is None else loc for loc in locality], dtype=object
    )
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)

    def make_list(mask: np.ndarray) -> pa.Table:
        idx = np.flatnonzero(mask)
        idx = idx[np.lexsort((rank[idx], loc_key[idx].astype(str)))]
        position = np.zeros(idx.size, dtype=np.int64)
        for loc in np.unique(loc_key[idx]):
            at = loc_key[idx] == loc
            position[at] = np.arange(1, int(at.sum()) + 1)
        sub = tiered.take(pa.array(idx, pa.int64()))
        cols = {
            "locality": pa.array(locality[idx].tolist(), pa.string()),
            "position": pa.array(position, pa.int64()),
            "patient_id": sub["patient_id"],
            "as_of": sub["as_of"],
            "status": pa.array(status[idx].tolist(), pa.string()),
            "tier": sub["tier"],
            "risk": pc.cast(sub["risk"], pa.float64()),
            "risk_band": sub["risk_band"],
            "expected_bed_days": _column(sub, "expected_bed_days", pa.float64()),
            "essex_priority": pa.array(
                np.where(essex[idx] == 99, 0, essex[idx]),
                pa.int64(),
                mask=essex[idx] == 99,
            ),
            "rules_met": pa.array([rules_met[i] for i in idx], pa.list_(pa.string())),
            "enrol_date": sub["enrol_date"],
            "reasons": pa.nulls(idx.size, pa.list_(pa.string())),
        }
        return pa.table(cols, schema=LIST_SCHEMA)

    caseload = make_list(list_name == "caseload")
    waiting = make_list(list_name == "waiting")
    ex_idx = np.flatnonzero(list_name == "excluded")
    ex_idx = ex_idx[np.lexsort((pid[ex_idx].astype(str), loc_key[ex_idx].astype(str)))]
    ex = tiered.take(pa.array(ex_idx, pa.int64()))
    excluded = pa.table(
        {
            "locality": ex["locality"],
            "patient_id": ex["patient_id"],
            "as_of": ex["as_of"],
            "tier": ex["tier"],
            "risk": pc.cast(ex["risk"], pa.float64()),
            "reason": pa.array(reason[ex_idx].tolist(), pa.string()),
            "detail": pa.array(detail[ex_idx].tolist(), pa.string()),
            "since": pa.array([since[i] for i in ex_idx], pa.date32()),
        },
        schema=EXCLUDED_SCHEMA,
    )
    tiers_table = pa.table(
        {
            "patient_id": tiered["patient_id"],
            "as_of": tiered["as_of"],
            "locality": tiered["locality"],
            "risk": pc.cast(tiered["risk"], pa.float64()),
            "share_above": tiered["share_above"],
            "tier": tiered["tier"],
            "risk_band": tiered["risk_band"],
            "enrolled": pa.array(enrolled_mask, pa.bool_()),
            "list": pa.array(list_name.tolist(), pa.string()),
        },
        schema=TIERS_SCHEMA,
    )
    capacity = _capacity(places, as_of, loc_key, list_name, status, enrolled_mask)
    changes = list_changes(
        tiers_table,
        excluded,
        as_of=as_of,
        previous=None if previous is None else previous.tiers,
        enrolled=enrolled,
        tables=tables,
    )
    logger.info(
        "stratify: %d eligible on %s: %d on caseloads (%d continuing), %d waiting, "
        "%d excluded, %d changes",
        n,
        as_of,
        caseload.num_rows,
        int(enrolled_mask.sum()),
        waiting.num_rows,
        excluded.num_rows,
        changes.num_rows,
    )
    return Caseloads(
        as_of=as_of,
        caseload=caseload,
        waiting=waiting,
        excluded=excluded,
        changes=changes,
        capacity=capacity,
        tiers=tiers_table,
    )


def _capacity(
    places: pa.Table,
    as_of: dt.date,
    loc_key: np.ndarray,
    list_name: np.ndarray,
    status: np.ndarray,
    enrolled: np.ndarray,
) -> pa.Table:
    rows = []
    for row in places.to_pylist():
        at = loc_key == row["locality"]
        continuing = int((at & enrolled).sum())
        new = int((at & (status == "new")).sum())
        caseload = continuing + new
        rows.append(
            {
                **row,
                "as_of": as_of,
                "eligible": int(at.sum()),
                "continuing": continuing,
                "new": new,
                "caseload": caseload,
                "waiting": int((at & (list_name == "waiting")).sum()),
                "excluded": int((at & (list_name == "excluded")).sum()),
                "free_places": max(0, row["listable"] - caseload),
                "reserve_used": max(0, caseload - row["listable"]),
            }
        )
    return pa.Table.from_pylist(rows, schema=CAPACITY_SCHEMA)
