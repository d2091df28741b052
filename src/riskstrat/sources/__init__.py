"""Sources: the canonical tables of the data contract, validated once, at the edge.

A source adapter's only job is to produce the six canonical tables (``patients``,
``admissions``, ``prescriptions``, ``residences``, ``nominations``, ``enrolments``).
The contract is declared once, as data, in :data:`CONTRACT`. :func:`load_tables`
reads a folder of canonical CSV or Parquet files, sends rows that break the
contract to ``rejects`` (with file, row, column, rule and value) and returns a
:class:`Tables` object whose counts always reconcile: read = accepted + rejected.
"""

from riskstrat.sources._loader import RULES, load_tables
from riskstrat.sources._parse import normalise_icd10
from riskstrat.sources._schema import (
    CONTRACT,
    DRUG_CODE_SYSTEMS,
    REJECTS_SCHEMA,
    RESIDENCE_TYPES,
    SEXES,
    Column,
    TableSchema,
)
from riskstrat.sources._tables import COUNTS_SCHEMA, TABLE_NAMES, Tables

__all__ = [
    "CONTRACT",
    "COUNTS_SCHEMA",
    "DRUG_CODE_SYSTEMS",
    "REJECTS_SCHEMA",
    "RESIDENCE_TYPES",
    "RULES",
    "SEXES",
    "TABLE_NAMES",
    "Column",
    "TableSchema",
    "Tables",
    "load_tables",
    "normalise_icd10",
]
