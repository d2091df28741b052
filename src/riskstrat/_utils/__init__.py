"""Small shared utilities used by several stages (not public API)."""

from riskstrat._utils._atomic import atomic_path, write_parquet
from riskstrat._utils._dates import EARLIEST, LATEST, check_date
from riskstrat._utils._groups import (
    AGE_BANDS,
    UNKNOWN,
    age_band,
    evaluation_groups,
    group_label,
)
from riskstrat._utils._warnings import warn_caller

__all__ = [
    "AGE_BANDS",
    "EARLIEST",
    "LATEST",
    "UNKNOWN",
    "age_band",
    "atomic_path",
    "check_date",
    "evaluation_groups",
    "group_label",
    "warn_caller",
    "write_parquet",
]
