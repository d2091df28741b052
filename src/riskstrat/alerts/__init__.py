"""Alerts: what changed since the last run, for the case managers.

:func:`diff_runs` compares two run snapshots (:class:`RunSnapshot`: scores with
tiers, and features, keyed by ``(patient_id, as_of)``) and the events dated between
them, and raises step-up alerts (an emergency admission — still in hospital means
"assess before discharge" —, the second or third admission in 12 months, a
frail-indicator admission, a move into a care home, crossing five medicines, a
nomination, a rise in tier or risk) and step-down suggestions for enrolled people
below the case-management tier for several runs (never an automatic discharge).
Each alert has a stable key (person, trigger, event date) and is raised once.
"""

from riskstrat.alerts._diff import (
    ALERTS_SCHEMA,
    NO_PREVIOUS,
    TRIGGERS,
    Alerts,
    RunSnapshot,
    diff_runs,
)
from riskstrat.alerts._events import EVENTS_SCHEMA, trigger_events

__all__ = [
    "ALERTS_SCHEMA",
    "EVENTS_SCHEMA",
    "NO_PREVIOUS",
    "TRIGGERS",
    "Alerts",
    "RunSnapshot",
    "diff_runs",
    "trigger_events",
]
