"""Synthetic population with known truth: the demo data and the tests' ground truth.

:func:`make_population` simulates a registered population day by day (latent
frailty that drifts, long-term conditions, emergency and elective spells, a raised
hazard after each discharge, care-home moves, deaths, nominations, and an optional
case-management programme with a known effect) and returns the canonical tables —
the same :class:`riskstrat.sources.Tables` object that ``load_tables`` returns —
with a :class:`Truth`: ``truth.true_risk(as_of)`` is each person's true probability
of an emergency admission in the next 365 days, and ``truth.true_effect`` the
programme's hazard ratio. :func:`observable_ceiling` and :func:`auroc_table` set a
model against the truth (the best the records allow, paired AUROC intervals).
"""

from riskstrat.synth._ceiling import auroc_table, observable_ceiling
from riskstrat.synth._params import Programme, SynthParams
from riskstrat.synth._population import SyntheticPopulation, Truth, make_population

__all__ = [
    "Programme",
    "SynthParams",
    "SyntheticPopulation",
    "Truth",
    "auroc_table",
    "make_population",
    "observable_ceiling",
]
