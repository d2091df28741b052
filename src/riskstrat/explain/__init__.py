"""Explain: why the model ranks a person high, in words that cite their record.

:func:`contributions` gives each person's TreeSHAP contributions from the LightGBM
risk model (``pred_contrib`` on the raw score; the calibration is monotone, so
signs and order carry over to the calibrated risk), summed into reason groups —
one group per measure, all its windows together. :func:`reasons` turns the
strongest risk-raising groups into sentences that cite the person's own dates and
counts ("3 emergency admissions in the last 12 months (latest 2 Mar 2023, ...)"),
with the seed's case-finding rule first for people it lists. Wording lives in one
TOML file (:func:`load_templates`). :func:`global_summary` and
:class:`ContributionDisplay` are for analysts. Only the people asked for are
explained.
"""

from riskstrat.explain._contributions import contributions
from riskstrat.explain._groups import reason_group
from riskstrat.explain._reasons import reasons, reasons_schema
from riskstrat.explain._summary import ContributionDisplay, beeswarm, global_summary
from riskstrat.explain._templates import ReasonTemplates, load_templates

__all__ = [
    "ContributionDisplay",
    "ReasonTemplates",
    "beeswarm",
    "contributions",
    "global_summary",
    "load_templates",
    "reason_group",
    "reasons",
    "reasons_schema",
]
