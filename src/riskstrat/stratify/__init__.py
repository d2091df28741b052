"""Stratify: Kaiser tiers, caseloads that fit the staff, and scoping.

:func:`assign_tiers` puts each scored person in a tier of the Kaiser pyramid (case
management, disease management, supported self-care) by percentile or probability.
:func:`caseloads` turns a score table and a feature table of one ``as_of`` into each
locality's caseload (people already enrolled first, then newcomers in priority order
up to the capacity less a reserve), a waiting list in the same order, the excluded
with their reason, and a changes table of who left and why. Capacity comes from a
localities file (:func:`read_localities`). :func:`scope` and :func:`rule_cascade`
are the seed's scoping and "adapting to capacity" steps. All settings are in one
frozen :class:`StratifySettings`. Nothing here reads the clock.
"""

from riskstrat.stratify._capacity import (
    LOCALITIES_SCHEMA,
    localities_table,
    read_localities,
)
from riskstrat.stratify._cascade import CASCADE_SCHEMA, rule_cascade
from riskstrat.stratify._caseloads import (
    CAPACITY_SCHEMA,
    EXCLUDED_SCHEMA,
    LIST_SCHEMA,
    RULE_NAMES,
    TIERS_SCHEMA,
    Caseloads,
    caseloads,
)
from riskstrat.stratify._changes import CHANGES_SCHEMA
from riskstrat.stratify._scope import (
    AREAS_SCHEMA,
    COSTS_SCHEMA,
    Scope,
    pay_bands,
    round_half_up,
    scope,
    table_one,
)
from riskstrat.stratify._screening import open_enrolments, screening_pauses
from riskstrat.stratify._settings import TIERS, StratifySettings
from riskstrat.stratify._tiers import assign_tiers

__all__ = [
    "AREAS_SCHEMA",
    "CAPACITY_SCHEMA",
    "CASCADE_SCHEMA",
    "CHANGES_SCHEMA",
    "COSTS_SCHEMA",
    "EXCLUDED_SCHEMA",
    "LIST_SCHEMA",
    "LOCALITIES_SCHEMA",
    "RULE_NAMES",
    "TIERS",
    "TIERS_SCHEMA",
    "Caseloads",
    "Scope",
    "StratifySettings",
    "assign_tiers",
    "caseloads",
    "localities_table",
    "open_enrolments",
    "pay_bands",
    "read_localities",
    "round_half_up",
    "rule_cascade",
    "scope",
    "screening_pauses",
    "table_one",
]
