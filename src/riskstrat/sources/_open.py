"""``open_tables``: decide once what an input is, and hand every stage one object."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from riskstrat._utils import warn_caller
from riskstrat.exceptions import DataQualityWarning
from riskstrat.sources._scan import ValidatedFolder, validated_folder
from riskstrat.sources._source import SOURCES, Source, load_source
from riskstrat.sources._spells import spells_joined
from riskstrat.sources._tables import Tables

__all__ = ["OpenedTables", "open_tables"]

logger = logging.getLogger(__name__)

#: What :func:`open_tables` returns and every stage accepts.
OpenedTables = Tables | ValidatedFolder


def open_tables(
    path: str | os.PathLike[str] | Tables | ValidatedFolder,
    *,
    source: Source = "canonical",
    extract_date: dt.date | None = None,
    **options: Any,
) -> OpenedTables:
    r"""Open an input once: a validated folder, a canonical folder, OMOP or Synthea.

    This is the one place that decides what an input is. Every stage
    (:func:`riskstrat.features.build_features`, ``make_labels``, training,
    scoring) accepts what it returns, so nothing downstream looks at the path
    again.

    Parameters
    ----------
    path : path-like, Tables or ValidatedFolder
        A folder (or, for OMOP, a DuckDB file). Already opened tables are
        returned as they are.
    source : {"canonical", "omop", "synthea"}, default="canonical"
    extract_date : datetime.date, optional
        When the data were extracted. A folder validated by riskstrat
        (``riskstrat validate --out``, ``riskstrat synth``) carries its own; give
        another and the folder is validated again against it.
    **options
        Passed to the source's reader (see :func:`load_source`). A validated
        folder is read as it was written: ``join_spells=True`` validates it
        again only when its admissions were not joined; ``join_spells=False``
        cannot split spells joined when it was validated (a warning says so:
        validate the source again with ``join_spells=False``).

    Returns
    -------
    Tables or ValidatedFolder
        For a canonical folder validated by riskstrat whose files still match
        their recorded counts and schemas, a :class:`ValidatedFolder` handle (its
        rows are read by each stage as needed, prescriptions only within the
        window a stage uses). Otherwise the validated tables
        (:class:`SourceTables`, carrying the mapping report). Both have
        ``absent``, ``extract_date`` and ``mapping``.

    Raises
    ------
    ValueError
        Unknown ``source`` or option.
    SchemaError
        A required table or column is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "patient_id,birth_date,sex\np1,1940-01-01,f\n")
    >>> _ = (folder / "admissions.csv").write_text(
    ...     "patient_id,admission_date,emergency\np1,2021-01-01,true\n")
    >>> opened = open_tables(folder)
    >>> type(opened).__name__, opened.mapping.source
    ('SourceTables', 'canonical')
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "validated"
    >>> _ = opened.to_parquet(out)
    >>> type(open_tables(out)).__name__
    'ValidatedFolder'
    """
    if isinstance(path, Tables | ValidatedFolder):
        return path
    if source not in SOURCES:
        raise ValueError(
            f"The `source` parameter of open_tables must be one of {list(SOURCES)}. "
            f"Got {source!r} instead."
        )
    if source == "canonical" and set(options) <= {"join_spells"}:
        found = validated_folder(path)
        if found is not None and extract_date in (None, found.extract_date):
            joined = spells_joined(found.mapping)
            want = options.get("join_spells")
            if want is False and joined:
                warn_caller(
                    f"{path}: the admissions of this validated folder were joined "
                    "into spells when it was validated; join_spells=False cannot "
                    "split them. Validate the source again with join_spells=False "
                    "(--no-join-spells) to keep every stay.",
                    DataQualityWarning,
                )
            if not want or joined:
                logger.info("%s: validated Parquet scan, no second validation", path)
                return found
    return load_source(path, source=source, extract_date=extract_date, **options)
