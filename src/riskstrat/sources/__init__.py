"""Sources: the canonical tables of the data contract, validated once, at the edge.

A source adapter's only job is to produce the canonical tables (``patients``,
``admissions``, ``prescriptions``, ``residences``, ``nominations``, ``enrolments``,
``screenings``).
The contract is declared once, as data, in :data:`CONTRACT`. :func:`load_tables`
reads a folder of canonical CSV or Parquet files, sends rows that break the
contract to ``rejects`` (with file, row, column, rule and value) and returns a
:class:`Tables` object whose counts always reconcile: read = accepted + rejected.

Real data come in through adapters that produce the same tables and pass them
through the same validation: :func:`load_omop` (OMOP CDM 5.3/5.4: CSV/Parquet
folder or DuckDB file) and :func:`load_synthea` (Synthea CSV). Each returns
:class:`SourceTables`, a :class:`Tables` that also carries a
:class:`MappingReport` (rows read, mapped, unmapped with reasons, and the
features the source cannot support). :func:`load_source` picks the reader, and
:func:`open_tables` decides once what an input is (a folder validated by
riskstrat is read as it is, see :class:`ValidatedFolder`) and returns the object
every later stage accepts.
"""

from riskstrat.sources._loader import RULES, load_tables
from riskstrat.sources._mapping import FEATURE_GROUPS, MappingReport, SourceTables
from riskstrat.sources._omop import load_omop
from riskstrat.sources._open import OpenedTables, open_tables
from riskstrat.sources._parse import normalise_icd10
from riskstrat.sources._scan import ValidatedFolder
from riskstrat.sources._schema import (
    CONTRACT,
    DRUG_CODE_SYSTEMS,
    REJECTS_SCHEMA,
    RESIDENCE_TYPES,
    SCREENING_OUTCOMES,
    SEXES,
    Column,
    TableSchema,
)
from riskstrat.sources._source import SOURCES, load_source
from riskstrat.sources._synthea import load_synthea
from riskstrat.sources._tables import COUNTS_SCHEMA, TABLE_NAMES, Tables

__all__ = [
    "CONTRACT",
    "COUNTS_SCHEMA",
    "DRUG_CODE_SYSTEMS",
    "FEATURE_GROUPS",
    "REJECTS_SCHEMA",
    "RESIDENCE_TYPES",
    "RULES",
    "SCREENING_OUTCOMES",
    "SEXES",
    "SOURCES",
    "TABLE_NAMES",
    "Column",
    "MappingReport",
    "OpenedTables",
    "SourceTables",
    "TableSchema",
    "Tables",
    "ValidatedFolder",
    "load_omop",
    "load_source",
    "load_synthea",
    "load_tables",
    "normalise_icd10",
    "open_tables",
]
