"""Impact: whether case management reduced emergency admissions and bed days.

:func:`estimate_effect` compares people enrolled in case management with
controls matched on the enrolment date (age band, last year's emergency
admissions and how newly they became referable, then a score from features as
of that date, recent admissions and sex), as a difference
in differences of emergency admissions and bed days per person-year, with a
bootstrap CI, a placebo, a balance table and the naive before/after beside it
(which regression to the mean flatters). :func:`true_effect` gives the truth a
synthetic population knows. :func:`population_measures` are the seed's
monitoring figures (rates per 1,000 by locality and month against a baseline
year and the -5 % target, length of stay, out-of-hours share, numbers case
managed, cost of bed days), and :func:`planning_curve` the bed days a number
of case managers could expect to save. :func:`e_value` says how strong a
hidden difference between the enrolled and their controls would have to be to
explain the estimate away. Nothing here reads the clock.
"""

from riskstrat.impact._displays import impact_figures, save_impact_figures
from riskstrat.impact._estimate import estimate_effect, first_enrolments
from riskstrat.impact._person_time import WINDOWS_SCHEMA, per_year, window_outcomes
from riskstrat.impact._planning import ENGLAND_SHARE, planning_curve
from riskstrat.impact._population import COST_PER_BED_DAY, population_measures
from riskstrat.impact._result import OUTCOMES, ImpactResult, write_table
from riskstrat.impact._sensitivity import e_value
from riskstrat.impact._settings import ImpactSettings
from riskstrat.impact._truth import true_effect

__all__ = [
    "COST_PER_BED_DAY",
    "ENGLAND_SHARE",
    "OUTCOMES",
    "WINDOWS_SCHEMA",
    "ImpactResult",
    "ImpactSettings",
    "e_value",
    "estimate_effect",
    "first_enrolments",
    "impact_figures",
    "per_year",
    "planning_curve",
    "population_measures",
    "save_impact_figures",
    "true_effect",
    "window_outcomes",
    "write_table",
]
