"""Step-up alerts and step-down suggestions from two consecutive runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.alerts._events import trigger_events
from riskstrat.stratify import TIERS, StratifySettings, assign_tiers, open_enrolments

__all__ = [
    "ALERTS_SCHEMA",
    "BELOW_CUT_SCHEMA",
    "NO_PREVIOUS",
    "TRIGGERS",
    "Alerts",
    "RunSnapshot",
    "diff_runs",
]

logger = logging.getLogger(__name__)

#: Step-up triggers, in the order alerts of one person are listed.
TRIGGERS = (
    "emergency_admission",
    "third_admission_12m",
    "second_admission_12m",
    "frail_admission",
    "care_home_move",
    "nomination",
    "polypharmacy",
    "tier_up",
    "risk_rise",
    "step_down",
)

#: One row per alert or step-down suggestion.
ALERTS_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("previous_as_of", pa.date32()),
        pa.field("locality", pa.string()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("trigger", pa.string(), nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("before", pa.string()),
        pa.field("after", pa.string()),
        pa.field("risk", pa.float64()),
        pa.field("tier", pa.string()),
    ]
)

#: Consecutive runs below the case-management cut, per enrolled person.
BELOW_CUT_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("runs", pa.int64(), nullable=False),
    ]
)

NO_PREVIOUS = "no previous run: nothing to compare with, so no alerts were raised"


@dataclass(frozen=True)
class RunSnapshot:
    """What one run saw, keyed by ``(patient_id, as_of)``.

    Parameters
    ----------
    as_of : datetime.date
        The run date.
    scores : pyarrow.Table
        ``patient_id``, ``risk`` and ``tier`` of the people the run stratified
        (``Caseloads.tiers`` has them; ``locality`` is used when present). A
        table without ``tier`` is tiered with the settings given to
        :func:`diff_runs`.
    features : pyarrow.Table, default=None
        The run's feature table (``drugs_90d``, ``rule_frail_admission``,
        ``residence_type``, ``admissions_12m``): the polypharmacy and frailty
        triggers and the before/after values need it.
    below_cut_runs : pyarrow.Table, default=None
        Consecutive runs below the case-management cut per enrolled person, as
        returned in ``Alerts.current``; keep it for the next comparison.
    """

    as_of: dt.date
    scores: pa.Table
    features: pa.Table | None = None
    below_cut_runs: pa.Table | None = None


@dataclass(frozen=True)
class Alerts:
    """The result of :func:`diff_runs`.

    Attributes
    ----------
    alerts : pyarrow.Table
        :data:`ALERTS_SCHEMA`, ``kind == "step_up"``, new alerts only.
    step_down : pyarrow.Table
        :data:`ALERTS_SCHEMA`, ``kind == "step_down"``: suggestions to review
        (never an automatic discharge).
    current : RunSnapshot
        The current snapshot with ``below_cut_runs`` filled: pass it as
        ``previous`` next time.
    no_previous : bool
        True when there was no previous run (then there are no alerts).
    notice : str or None
        A sentence for the run log when something limits the comparison.
    """

    alerts: pa.Table
    step_down: pa.Table
    current: RunSnapshot
    no_previous: bool
    notice: str | None

    @property
    def keys(self) -> list[str]:
        """Keys of every alert and suggestion raised by this comparison."""
        return self.alerts["key"].to_pylist() + self.step_down["key"].to_pylist()


def _rows(table: pa.Table | None, columns: Iterable[str]) -> dict[str, dict]:
    if table is None:
        return {}
    keep = [c for c in ("patient_id", *columns) if c in table.column_names]
    return {r["patient_id"]: r for r in table.select(keep).to_pylist()}


def _tiered(snapshot: RunSnapshot, settings: StratifySettings) -> pa.Table:
    scores = snapshot.scores
    if "as_of" in scores.column_names:
        scores = scores.filter(
            pc.equal(scores["as_of"], pa.scalar(snapshot.as_of, pa.date32()))
        )
    if "tier" not in scores.column_names:
        scores = assign_tiers(scores, settings=settings)
    return scores


def _fmt(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def diff_runs(
    previous: RunSnapshot | None,
    current: RunSnapshot,
    *,
    tables: object,
    settings: StratifySettings | None = None,
    raised: Iterable[str] = (),
) -> Alerts:
    """Compare two runs: step-up alerts and step-down suggestions.

    Parameters
    ----------
    previous : RunSnapshot or None
        The last run. None: no alerts, ``no_previous`` set and a notice logged.
    current : RunSnapshot
        This run.
    tables : riskstrat.sources.Tables
        The canonical tables of this run (events dated in ``[previous.as_of,
        current.as_of)`` are the triggers; open enrolments for step-down).
    settings : StratifySettings, default=None
        ``risk_rise``, ``polypharmacy_threshold``, ``step_down_runs``, tiers.
    raised : iterable of str, default=()
        Keys of alerts raised before: they are not raised again.

    Returns
    -------
    Alerts

    Notes
    -----
    Step-up triggers, for the people in ``current.scores``:

    - ``emergency_admission``: an emergency admission since the last run; still
      in hospital on ``as_of`` → action "assess before discharge" (seed 003).
    - ``second_admission_12m``, ``third_admission_12m``: an admission of any
      kind that is the second or third in 12 months.
    - ``frail_admission``: an admission since the last run and the frail-
      indicator rule (``rule_frail_admission``) now met but not before.
    - ``care_home_move``: a move into a residential or nursing home.
    - ``nomination``: a clinician nomination.
    - ``polypharmacy``: distinct drugs in 90 days crossed the threshold (both
      counts known; an unknown count is never read as 0).
    - ``tier_up``: the Kaiser tier went up; ``risk_rise``: risk rose by more
      than ``settings.risk_rise``.

    An alert's key is ``patient_id|trigger|event date`` (the run date for
    ``tier_up``, ``risk_rise`` and ``polypharmacy``); a key is raised once.
    Step-down: an enrolled person below the case-management tier for
    ``settings.step_down_runs`` consecutive runs gets one suggestion to review
    their level of intervention.

    Examples
    --------
    >>> from riskstrat.sources import CONTRACT, Tables
    >>> d0, d1 = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    >>> def snap(day, tier):
    ...     return RunSnapshot(as_of=day, scores=pa.table(
    ...         {"patient_id": ["a"], "risk": [0.3], "tier": [tier]}))
    >>> adm = pa.Table.from_pylist([{"patient_id": "a", "emergency": True,
    ...     "admission_date": dt.date(2024, 1, 20), "discharge_date": None}],
    ...     schema=CONTRACT["admissions"].arrow_schema())
    >>> t = Tables(patients=CONTRACT["patients"].empty(), admissions=adm)
    >>> r = diff_runs(snap(d0, "disease_management"), snap(d1, "case_management"),
    ...               tables=t)
    >>> r.alerts.select(["trigger", "action"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'trigger': 'emergency_admission', 'action': 'assess before discharge'},
     {'trigger': 'tier_up', 'action': 'review'}]
    >>> diff_runs(snap(d0, "case_management"), snap(d1, "case_management"),
    ...           tables=t, raised=r.keys).alerts.num_rows
    0
    >>> diff_runs(None, snap(d1, "case_management"), tables=t).notice
    'no previous run: nothing to compare with, so no alerts were raised'
    """
    settings = StratifySettings() if settings is None else settings
    now = _tiered(current, settings)
    people = _rows(now, ["risk", "tier", "locality"])
    runs = _below_cut(previous, now, tables, current.as_of)
    current = replace(current, below_cut_runs=runs)
    if previous is None:
        logger.info("alerts on %s: %s", current.as_of, NO_PREVIOUS)
        empty = ALERTS_SCHEMA.empty_table()
        return Alerts(
            alerts=empty,
            step_down=empty,
            current=current,
            no_previous=True,
            notice=NO_PREVIOUS,
        )
    if previous.as_of > current.as_of:
        raise ValueError(
            f"diff_runs: the previous run ({previous.as_of}) is after the current "
            f"one ({current.as_of})."
        )
    before = _rows(_tiered(previous, settings), ["risk", "tier"])
    feat_cols = [
        "em_admissions_12m",
        "drugs_90d",
        "rule_frail_admission",
        "residence_type",
        "admissions_12m",
    ]
    f_now = _rows(current.features, feat_cols)
    f_before = _rows(previous.features, feat_cols)
    notice = None
    if current.features is None or previous.features is None:
        notice = "features of a run not given: no polypharmacy or frailty alerts"

    out: list[dict] = []

    def add(
        pid: str,
        trigger: str,
        day: dt.date,
        reason: str,
        action: str,
        old: object = None,
        new: object = None,
    ) -> None:
        person = people[pid]
        out.append(
            {
                "key": f"{pid}|{trigger}|{day.isoformat()}",
                "patient_id": pid,
                "as_of": current.as_of,
                "previous_as_of": previous.as_of,
                "locality": person.get("locality"),
                "kind": "step_down" if trigger == "step_down" else "step_up",
                "trigger": trigger,
                "event_date": day,
                "reason": reason,
                "action": action,
                "before": _fmt(old),
                "after": _fmt(new),
                "risk": person.get("risk"),
                "tier": person.get("tier"),
            }
        )

    events = trigger_events(tables, since=previous.as_of, as_of=current.as_of)
    admitted: dict[str, dt.date] = {}
    for e in events.to_pylist():
        pid, day, trigger = e["patient_id"], e["event_date"], e["trigger"]
        if pid not in people:
            continue
        if trigger == "any_admission":
            admitted[pid] = max(day, admitted.get(pid, day))
        elif trigger == "emergency_admission":
            # before/after: emergency admissions in 12 months at the two runs
            still = bool(e["still_in_hospital"])
            add(
                pid,
                trigger,
                day,
                f"emergency admission on {day}"
                + (", still in hospital" if still else ""),
                "assess before discharge" if still else "review after discharge",
                f_before.get(pid, {}).get("em_admissions_12m"),
                f_now.get(pid, {}).get("em_admissions_12m"),
            )
        elif trigger in ("second_admission_12m", "third_admission_12m"):
            n = e["count_12m"]
            word = "second" if n == 2 else "third"
            add(
                pid,
                trigger,
                day,
                f"{word} hospital admission in 12 months (on {day})",
                "screen for case management",
                n - 1,
                n,
            )
        elif trigger == "care_home_move":
            place = e["text"].replace("_", " ")
            add(
                pid,
                trigger,
                day,
                f"moved into a {place} on {day}",
                "screen for case management",
                f_before.get(pid, {}).get("residence_type"),
                e["text"],
            )
        elif trigger == "nomination":
            why = f": {e['text']}" if e["text"] else ""
            add(
                pid,
                trigger,
                day,
                f"nominated by a clinician on {day}{why}",
                "screen for case management",
            )
    for pid, day in admitted.items():
        was = f_before.get(pid, {}).get("rule_frail_admission")
        if f_now.get(pid, {}).get("rule_frail_admission") is True and was is not True:
            add(
                pid,
                "frail_admission",
                day,
                f"admitted with a frail-elderly indicator (admission on {day})",
                "screen for case management",
                was,
                True,
            )
    limit = settings.polypharmacy_threshold
    for pid in people:
        old_n = f_before.get(pid, {}).get("drugs_90d")
        new_n = f_now.get(pid, {}).get("drugs_90d")
        if old_n is not None and new_n is not None and old_n < limit <= new_n:
            add(
                pid,
                "polypharmacy",
                current.as_of,
                f"now {new_n} different medicines in 90 days ({old_n} at the last run)",
                "medication review",
                old_n,
                new_n,
            )
        if pid not in before:
            continue
        was, now_ = before[pid], people[pid]
        both = was["tier"] in TIERS and now_["tier"] in TIERS
        if both and TIERS.index(now_["tier"]) < TIERS.index(was["tier"]):
            add(
                pid,
                "tier_up",
                current.as_of,
                f"moved up to {now_['tier'].replace('_', ' ')}",
                "review",
                was["tier"],
                now_["tier"],
            )
        known = was["risk"] is not None and now_["risk"] is not None
        if known and now_["risk"] - was["risk"] > settings.risk_rise + 1e-12:
            add(
                pid,
                "risk_rise",
                current.as_of,
                f"risk rose from {was['risk']:.0%} to {now_['risk']:.0%}",
                "review",
                was["risk"],
                now_["risk"],
            )
    n_down = settings.step_down_runs
    for r in runs.to_pylist():
        if r["runs"] == n_down and r["patient_id"] in people:
            add(
                r["patient_id"],
                "step_down",
                current.as_of,
                f"below the case-management tier for {n_down} consecutive runs",
                "consider stepping down the level of intervention (not a discharge)",
                None,
                people[r["patient_id"]]["tier"],
            )

    seen = set(raised)
    kept = []
    for row in sorted(
        out, key=lambda r: (r["patient_id"], TRIGGERS.index(r["trigger"]), r["key"])
    ):
        if row["key"] not in seen:
            seen.add(row["key"])
            kept.append(row)
    table = pa.Table.from_pylist(kept, schema=ALERTS_SCHEMA)
    step_up = table.filter(pc.equal(table["kind"], "step_up"))
    step_down = table.filter(pc.equal(table["kind"], "step_down"))
    logger.info(
        "alerts on %s against %s: %d step-up alerts, %d step-down suggestions "
        "(%d already raised)",
        current.as_of,
        previous.as_of,
        step_up.num_rows,
        step_down.num_rows,
        len(out) - len(kept),
    )
    return Alerts(
        alerts=step_up,
        step_down=step_down,
        current=current,
        no_previous=False,
        notice=notice,
    )


def _below_cut(
    previous: RunSnapshot | None, now: pa.Table, tables: object, as_of: dt.date
) -> pa.Table:
    """Consecutive runs each enrolled person has been below case management."""
    enrolled = set(open_enrolments(tables, as_of=as_of)["patient_id"].to_pylist())
    last = {}
    if previous is not None and previous.below_cut_runs is not None:
        last = dict(
            zip(
                previous.below_cut_runs["patient_id"].to_pylist(),
                previous.below_cut_runs["runs"].to_pylist(),
                strict=True,
            )
        )
    rows = []
    for r in now.select(["patient_id", "tier"]).to_pylist():
        pid = r["patient_id"]
        if pid not in enrolled or r["tier"] is None:
            continue
        below = r["tier"] != TIERS[0]
        rows.append({"patient_id": pid, "runs": last.get(pid, 0) + 1 if below else 0})
    return pa.Table.from_pylist(
        sorted(rows, key=lambda r: r["patient_id"]), schema=BELOW_CUT_SCHEMA
    )
