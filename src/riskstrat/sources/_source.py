"""``load_source``: one entry point for every kind of source the CLI can read."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Literal

from riskstrat.sources._date_checks import date_notes
from riskstrat.sources._loader import load_canonical, load_tables
from riskstrat.sources._mapping import SourceTables, canonical_report, with_report
from riskstrat.sources._omop import load_omop
from riskstrat.sources._synthea import load_synthea

__all__ = ["SOURCES", "load_source"]

Source = Literal["canonical", "omop", "synthea"]
SOURCES: tuple[str, ...] = ("canonical", "omop", "synthea")


def load_source(
    path: str | os.PathLike[str],
    *,
    source: Source = "canonical",
    extract_date: dt.date | None = None,
    **options: Any,
) -> SourceTables:
    r"""Read any supported source into validated canonical tables.

    Parameters
    ----------
    path : path-like
        ``canonical``: a folder of canonical CSV/Parquet files
        (:func:`load_tables`). ``omop``: a folder of OMOP CDM 5.3/5.4 CSV or
        Parquet files, or a DuckDB database file (:func:`load_omop`).
        ``synthea``: a folder of Synthea CSV files (:func:`load_synthea`).
    source : {"canonical", "omop", "synthea"}, default="canonical"
    extract_date : datetime.date, optional
        When the data were extracted; later rows are rejected.
    **options
        Passed to the reader: ``drug_code_system``, ``encoding``,
        ``join_spells`` (canonical);
        ``schema``, ``inpatient_urgency``, ``join_spells``, ``drug_issue_days``
        (omop); ``icd10_map``, ``inpatient_urgency``, ``join_spells`` (synthea).

    Returns
    -------
    SourceTables
        A :class:`Tables` (everything downstream accepts it) whose ``mapping``
        attribute is the :class:`MappingReport`: rows read, mapped and unmapped
        per source table, with reasons, and the feature groups the source cannot
        support (``mapping.not_computable``). The report travels on the tables
        so a caller that only wants tables need not unpack anything. For a
        canonical folder every row read is mapped as it is. Rejects and counts
        of the shared validation are ``rejects`` and ``counts`` as usual.

    Raises
    ------
    ValueError
        Unknown ``source``, or an option the reader does not take.
    SchemaError
        A required table or column is missing (see each reader).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "patient_id,birth_date,sex\np1,1940-01-01,f\n")
    >>> _ = (folder / "admissions.csv").write_text(
    ...     "patient_id,admission_date,emergency\np1,2021-01-01,true\n")
    >>> t = load_source(folder)
    >>> t.mapping.source, t.admissions.num_rows
    ('canonical', 1)
    >>> t.mapping.not_computable[:2]
    ('admission_time', 'frailty_diagnoses')
    """
    readers = {"canonical": load_tables, "omop": load_omop, "synthea": load_synthea}
    if source not in readers:
        raise ValueError(
            f"The `source` parameter of load_source must be one of {list(SOURCES)}. "
            f"Got {source!r} instead."
        )
    allowed = {
        "canonical": {"drug_code_system", "encoding", "join_spells"},
        "omop": {"schema", "inpatient_urgency", "join_spells", "drug_issue_days"},
        "synthea": {"icd10_map", "inpatient_urgency", "join_spells"},
    }[source]
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"load_source(source={source!r}) does not take {unknown}; it takes "
            f"{sorted(allowed) or 'no options'}."
        )
    if source == "canonical":
        found = load_canonical(path, extract_date=extract_date, **options)
        notes = date_notes(found.date_checks, found.reference_date)
        report = canonical_report(found.tables, notes, found.spells)
        return with_report(found.tables, report)
    if source == "omop":
        return load_omop(path, extract_date=extract_date, **options)
    return load_synthea(path, extract_date=extract_date, **options)
