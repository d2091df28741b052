"""Public entry points: ``build_features`` and ``make_labels``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

import pyarrow as pa

from riskstrat.features._engine import Engine, run_sql
from riskstrat.features._prepare import prepare, unknown_groups
from riskstrat.features._scan import read_validated, validated_folder
from riskstrat.features._spec import FeatureSpec
from riskstrat.features._sql import (
    feature_schema,
    features_sql,
    label_schema,
    labels_sql,
)

__all__ = ["build_features", "make_labels"]

logger = logging.getLogger(__name__)


def _tables(tables, *, scan_window: dict | None = None):
    """``Tables`` from a ``Tables`` or a folder.

    A folder of validated Parquet (see :mod:`riskstrat.features._scan`) is read
    without a second validation when ``scan_window`` (the prescriptions to keep)
    is given; any other folder goes through ``load_tables``.
    """
    if isinstance(tables, str | os.PathLike):
        if scan_window is not None and (found := validated_folder(tables)):
            logger.info("%s: validated Parquet scan, no second validation", tables)
            return read_validated(found, **scan_window)
        from riskstrat.sources import load_tables

        return load_tables(tables)
    if not hasattr(tables, "admissions") or not hasattr(tables, "absent"):
        raise TypeError(
            "`tables` must be a riskstrat.sources.Tables (from load_tables or "
            f"make_population) or a folder path. Got {type(tables).__name__} instead."
        )
    return tables


def _check_as_of(as_of) -> dt.date:
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise TypeError(f"`as_of` must be a datetime.date. Got {as_of!r} instead.")
    return as_of


def build_features(
    tables,
    *,
    as_of: dt.date,
    spec: FeatureSpec | None = None,
    engine: Engine = "duckdb",
    spark=None,
) -> pa.Table:
    """One row of features per person alive and registered on ``as_of``.

    The cohort: ``birth_date <= as_of``; ``death_date`` null or on/after
    ``as_of``; ``registration_date`` null or on/before ``as_of``;
    ``deregistration_date`` null or on/after ``as_of``. Only events dated
    strictly before ``as_of`` are used (windows ``[as_of - d, as_of)``); a
    discharge on or after ``as_of`` is not yet known, so bed days of a spell
    still open on ``as_of`` run to ``as_of`` and ``in_hospital`` is true.

    Features (see ``docs/features.md`` for each exact definition): emergency
    admissions and bed days in 3/6/12/24 months (by admission date); admissions of
    any kind, elective and unknown-urgency in 12 months; days since the last
    discharge and the last emergency admission; share of emergency admissions
    17:00-08:00 in 24 months; the seed's frail-elderly indicators in 12 months
    (E86, W00-W19, K59.0, R11 only over 70, N39.0; primary or secondary
    diagnoses of any admission); Charlson and Elixhauser conditions (Quan 2005)
    over 730 days with the Charlson score and Elixhauser count; distinct drugs
    and BNF chapters in 90 days; residence on ``as_of`` (a move dated ``as_of``
    is not yet known; no row = private); nominations; age in whole years, sex,
    deprivation, locality, practice; the seed's five case-finding rules for
    people 65+, ``essex_eligible`` and ``essex_priority`` (1 = highest).
    Features of an absent optional table are null, not zero.

    Parameters
    ----------
    tables : Tables or path-like
        Canonical tables, or a folder. A folder of validated tables written by
        riskstrat (:meth:`~riskstrat.sources.Tables.to_parquet`: ``riskstrat
        synth``, ``riskstrat validate --out``; it holds ``_counts.parquet``) is
        read without validating it again (prescriptions only within the drug
        window), after checking each file's row count and schema against
        ``_counts.parquet``; any other folder is read and validated with
        :func:`riskstrat.sources.load_tables` first.
    as_of : datetime.date
    spec : FeatureSpec, optional
    engine : {"duckdb", "spark"}, default="duckdb"
    spark : SparkSession, optional
        For ``engine="spark"``; a local session is started if not given.

    Returns
    -------
    pyarrow.Table
        Sorted by ``patient_id``; schema ``feature_schema(spec)`` on both engines.

    Examples
    --------
    >>> import datetime as dt
    >>> from riskstrat.synth import make_population
    >>> pop = make_population(300, start=dt.date(2020, 1, 1), end=dt.date(2022, 1, 1))
    >>> X = build_features(pop.tables, as_of=dt.date(2021, 6, 1))
    >>> X.column_names[:3]
    ['patient_id', 'age', 'sex']
    """
    spec = spec or FeatureSpec()
    as_of = _check_as_of(as_of)
    # Only the drug window is read by the SQL: filter before either engine.
    window = {
        "issued_from": as_of - dt.timedelta(days=spec.drug_days),
        "issued_before": as_of,
    }
    tables = _tables(tables, scan_window=window)
    tic = time.perf_counter()
    unknown = unknown_groups(tables)
    sql = features_sql(as_of, spec, frozenset(tables.absent), unknown)
    out = run_sql(
        sql,
        prepare(tables, **window),
        feature_schema(spec),
        engine=engine,
        spark=spark,
    )
    logger.info(
        "features: %d people, %d columns as of %s on %s in %.1f s; "
        "not computable (null): %s",
        out.num_rows,
        out.num_columns,
        as_of,
        engine,
        time.perf_counter() - tic,
        ", ".join(sorted(unknown)) or "none",
    )
    return out


def make_labels(
    tables,
    *,
    as_of: dt.date,
    horizon_days: int = 365,
    engine: Engine = "duckdb",
    spark=None,
) -> pa.Table:
    """Outcomes in ``[as_of, as_of + horizon_days)`` for the cohort on ``as_of``.

    ``emergency_admission`` (any), ``emergency_admissions`` (count),
    ``emergency_bed_days`` (of emergency spells admitted in the window:
    discharge - admission, an open spell counted to the end of the window or the
    extract date if earlier), ``death`` and ``composite`` (emergency admission
    or death, as SPARRA uses).

    Parameters
    ----------
    tables : Tables or path-like
        Canonical tables, or a folder (a folder of validated tables is read as
        :func:`build_features` reads it, without prescriptions, and its extract
        date comes with it).
    as_of : datetime.date
    horizon_days : int, default=365
    engine : {"duckdb", "spark"}, default="duckdb"
    spark : SparkSession, optional

    Returns
    -------
    pyarrow.Table
        Sorted by ``patient_id``; schema ``label_schema()``.

    Raises
    ------
    ValueError
        When the window runs past ``tables.extract_date``: outcomes would be
        incomplete.
    """
    as_of = _check_as_of(as_of)
    if not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(
            "The `horizon_days` parameter of make_labels must be an int >= 1. "
            f"Got {horizon_days!r} instead."
        )
    # Labels need no prescriptions: a validated folder is read without them.
    tables = _tables(tables, scan_window={"issued_from": as_of, "issued_before": as_of})
    end = as_of + dt.timedelta(days=horizon_days)
    if tables.extract_date is not None and end > tables.extract_date:
        raise ValueError(
            f"The label window [{as_of}, {end}) runs past the extract date "
            f"{tables.extract_date}; outcomes after it are unknown. Use an earlier "
            "as_of or a shorter horizon."
        )
    observed = tables.extract_date or end
    sql = labels_sql(as_of, horizon_days, observed, unknown_groups(tables))
    inputs = prepare(tables, issued_from=as_of, issued_before=as_of)  # no drugs needed
    return run_sql(sql, inputs, label_schema(), engine=engine, spark=spark)
