"""Public entry points: ``build_features`` and ``make_labels``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

import pyarrow as pa

from riskstrat._utils import check_date
from riskstrat.features._engine import Engine, run_sql
from riskstrat.features._prepare import prepare, unknown_groups
from riskstrat.features._spec import FeatureSpec
from riskstrat.features._sql import (
    _cohort,
    _d,
    cohort_schema,
    cohort_sql,
    feature_schema,
    features_sql,
    label_schema,
    labels_sql,
)
from riskstrat.sources import open_tables

__all__ = ["build_cohort", "build_features", "enrolment_time", "make_labels"]

logger = logging.getLogger(__name__)


def _opened(tables):
    """What :func:`riskstrat.sources.open_tables` gives (a path is opened here).

    A :class:`~riskstrat.sources.ValidatedFolder` is later read with
    prescriptions only in the window a stage needs (``.read(...)``); tables in
    memory are used as they are.
    """
    if not isinstance(tables, str | os.PathLike) and not hasattr(tables, "read"):
        raise TypeError(
            "`tables` must be a riskstrat.sources.Tables or ValidatedFolder (from "
            "open_tables, load_tables or make_population(...).tables) or a folder "
            f"path. Got {type(tables).__name__} instead."
        )
    return open_tables(tables)


#: How far past the extract date an index date may be: a year. Beyond it nobody's
#: deaths, moves or deregistrations are known, so "alive and registered on
#: as_of" would be a guess.
MAX_DAYS_PAST_EXTRACT = 365


def check_index_date(tables, *, as_of: dt.date) -> None:
    """Refuse an index date far past the input's extract date.

    Raises
    ------
    ValueError
        When ``as_of`` is more than :data:`MAX_DAYS_PAST_EXTRACT` days after
        ``tables.extract_date``.
    """
    extract = getattr(tables, "extract_date", None)
    if extract is not None and (as_of - extract).days > MAX_DAYS_PAST_EXTRACT:
        raise ValueError(
            f"as_of {as_of} is {(as_of - extract).days:,} days after the extract "
            f"date {extract}: who died, moved or left since is unknown, so the "
            f"cohort would be a guess. Use an index date at most "
            f"{MAX_DAYS_PAST_EXTRACT} days after the extract, or a newer extract."
        )


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
    ['patient_id', 'as_of', 'age']
    """
    spec = spec or FeatureSpec()
    as_of = check_date(as_of, "as_of")
    # Only the drug window is read by the SQL: filter before either engine.
    window = {
        "issued_from": as_of - dt.timedelta(days=spec.drug_days),
        "issued_before": as_of,
    }
    opened = _opened(tables)
    check_index_date(opened, as_of=as_of)
    tables = opened.read(**window)
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
    as_of = check_date(as_of, "as_of")
    _check_horizon(horizon_days, "make_labels")
    opened = _opened(tables)
    check_label_window(opened, as_of=as_of, horizon_days=horizon_days)
    # Labels need no prescriptions: a validated folder is read without them.
    tables = opened.read(issued_from=as_of, issued_before=as_of)
    end = as_of + dt.timedelta(days=horizon_days)
    sql = labels_sql(
        as_of, horizon_days, tables.extract_date or end, unknown_groups(tables)
    )
    inputs = prepare(tables, issued_from=as_of, issued_before=as_of)  # no drugs needed
    return run_sql(sql, inputs, label_schema(), engine=engine, spark=spark)


def _check_horizon(horizon_days, caller: str) -> None:
    if not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(
            f"The `horizon_days` parameter of {caller} must be an int >= 1. "
            f"Got {horizon_days!r} instead."
        )


def check_label_window(tables, *, as_of: dt.date, horizon_days: int) -> None:
    """Refuse a label window that runs past the input's extract date.

    Cheap (reads no rows): call it before any expensive work that needs labels.

    Raises
    ------
    ValueError
        When ``[as_of, as_of + horizon_days)`` ends after ``tables.extract_date``.
    """
    extract = getattr(open_tables(tables), "extract_date", None)
    end = as_of + dt.timedelta(days=horizon_days)
    if extract is not None and end > extract:
        raise ValueError(
            f"The label window [{as_of}, {end}) runs past the extract date "
            f"{extract}; outcomes after it are unknown. Use an earlier as_of or a "
            "shorter horizon."
        )


def build_cohort(
    tables,
    *,
    as_of: dt.date,
    spec: FeatureSpec | None = None,
    min_age: int = 0,
    max_age: int | None = None,
    labels: bool = True,
    horizon_days: int = 365,
    engine: Engine = "duckdb",
    spark=None,
) -> pa.Table:
    """Features of a cohort on ``as_of`` joined to its labels, in one SQL query.

    The people of :func:`build_features` aged ``[min_age, max_age]`` on
    ``as_of``, with their outcomes in ``[as_of, as_of + horizon_days)`` as
    ``label_*`` columns (those of :func:`make_labels`). The join is on
    ``(patient_id, as_of)`` and the age rule is applied in SQL, on either engine;
    nothing is aligned by row position.

    Parameters
    ----------
    tables : Tables, ValidatedFolder or path-like
        As :func:`riskstrat.sources.open_tables` gives them.
    as_of : datetime.date
    spec : FeatureSpec, optional
    min_age : int, default=0
    max_age : int, optional
    labels : bool, default=True
        Without labels (for scoring) the extract date need not cover a horizon.
    horizon_days : int, default=365
    engine : {"duckdb", "spark"}, default="duckdb"
    spark : SparkSession, optional

    Returns
    -------
    pyarrow.Table
        Schema ``cohort_schema(spec, labels=labels)``, sorted by ``patient_id``.

    Examples
    --------
    >>> import datetime as dt
    >>> from riskstrat.synth import make_population
    >>> pop = make_population(300, start=dt.date(2020, 1, 1), end=dt.date(2022, 1, 1))
    >>> c = build_cohort(pop.tables, as_of=dt.date(2020, 6, 1), min_age=65)
    >>> c.column_names[:2], c.column_names[-1]
    (['patient_id', 'as_of'], 'label_composite')
    >>> min(c["age"].to_pylist()) >= 65
    True
    """
    spec = spec or FeatureSpec()
    as_of = check_date(as_of, "as_of")
    _check_horizon(horizon_days, "build_cohort")
    opened = _opened(tables)
    check_index_date(opened, as_of=as_of)
    if labels:
        check_label_window(opened, as_of=as_of, horizon_days=horizon_days)
    window = {
        "issued_from": as_of - dt.timedelta(days=spec.drug_days),
        "issued_before": as_of,
    }
    tables = opened.read(**window)
    end = as_of + dt.timedelta(days=horizon_days)
    unknown = unknown_groups(tables)
    sql = cohort_sql(
        features_sql(as_of, spec, frozenset(tables.absent), unknown),
        labels_sql(as_of, horizon_days, tables.extract_date or end, unknown)
        if labels
        else None,
        min_age=min_age,
        max_age=max_age,
    )
    tic = time.perf_counter()
    out = run_sql(
        sql,
        prepare(tables, **window),
        cohort_schema(spec, labels=labels),
        engine=engine,
        spark=spark,
    )
    logger.info(
        "cohort: %d people aged %s-%s as of %s on %s in %.1f s",
        out.num_rows,
        min_age,
        "" if max_age is None else max_age,
        as_of,
        engine,
        time.perf_counter() - tic,
    )
    return out


#: Schema of :func:`enrolment_time`.
ENROLMENT_TIME_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("as_of", pa.date32()),
        ("enrolled_on_as_of", pa.bool_()),
        ("enrol_date", pa.date32()),
        ("first_emergency_date", pa.date32()),
        ("bed_days_before_enrolment", pa.int64()),
    ]
)


def enrolment_time(
    tables,
    *,
    as_of: dt.date,
    horizon_days: int = 365,
    engine: Engine = "duckdb",
    spark=None,
) -> pa.Table | None:
    """Person-time under case management around a label window, for training.

    One row per person of the cohort on ``as_of`` (alive and registered), keyed
    ``(patient_id, as_of)``:

    - ``enrolled_on_as_of``: an enrolment is open on ``as_of`` (``enrol_date <
      as_of`` and ``end_date`` null or ``>= as_of``, as in
      :func:`riskstrat.stratify.open_enrolments`);
    - ``enrol_date``: the first enrolment starting in ``[as_of, as_of +
      horizon_days)``, null if none — the label window is under case management
      from that day;
    - ``first_emergency_date``: the first emergency admission in the window;
    - ``bed_days_before_enrolment``: emergency bed days of spells admitted in
      ``[as_of, enrol_date)`` (counted like the label's), null without an
      enrolment in the window.

    Returns None when the source has no ``enrolments`` table: who was under
    case management is then unknown, and nothing can be left out.

    Examples
    --------
    >>> import datetime as dt
    >>> from riskstrat.synth import Programme, make_population
    >>> pop = make_population(400, programme=Programme(start=dt.date(2020, 4, 1)))
    >>> t = enrolment_time(pop.tables, as_of=dt.date(2021, 4, 1))
    >>> t.column_names[2:4]
    ['enrolled_on_as_of', 'enrol_date']
    """
    as_of = check_date(as_of, "as_of")
    _check_horizon(horizon_days, "enrolment_time")
    opened = _opened(tables)
    check_label_window(opened, as_of=as_of, horizon_days=horizon_days)
    tables = opened.read(issued_from=as_of, issued_before=as_of)
    if "enrolments" in tables.absent:
        return None
    a = _d(as_of)
    end = as_of + dt.timedelta(days=horizon_days)
    e = _d(end)
    stop = _d(min(tables.extract_date or end, end))
    sql = f"""WITH {_cohort(as_of)},
enr AS (
    SELECT patient_id,
        max(CASE WHEN enrol_date < {a} AND (end_date IS NULL OR end_date >= {a})
            THEN 1 ELSE 0 END) AS open_on,
        min(CASE WHEN enrol_date >= {a} AND enrol_date < {e}
            THEN enrol_date END) AS enrol_date
    FROM enrolments
    GROUP BY patient_id
),
em AS (
    SELECT patient_id, admission_date, discharge_date
    FROM admissions
    WHERE emergency AND admission_date >= {a} AND admission_date < {e}
),
first_em AS (
    SELECT patient_id, min(admission_date) AS first_emergency_date
    FROM em GROUP BY patient_id
),
before_enrol AS (
    SELECT m.patient_id, sum(date_diff('day', m.admission_date,
        LEAST(COALESCE(m.discharge_date, {stop}), {stop}))) AS bed_days
    FROM em m JOIN enr r ON r.patient_id = m.patient_id
    WHERE r.enrol_date IS NOT NULL AND m.admission_date < r.enrol_date
    GROUP BY m.patient_id
)
SELECT
    c.patient_id,
    {a} AS as_of,
    COALESCE(r.open_on, 0) = 1 AS enrolled_on_as_of,
    r.enrol_date,
    f.first_emergency_date,
    CASE WHEN r.enrol_date IS NULL THEN NULL
        ELSE COALESCE(b.bed_days, 0) END AS bed_days_before_enrolment
FROM cohort c
LEFT JOIN enr r ON r.patient_id = c.patient_id
LEFT JOIN first_em f ON f.patient_id = c.patient_id
LEFT JOIN before_enrol b ON b.patient_id = c.patient_id"""
    adm = tables.admissions
    inputs = {
        "patients": tables.patients,
        "admissions": adm.select(
            ["patient_id", "admission_date", "discharge_date", "emergency"]
        ),
        "enrolments": tables.enrolments,
    }
    return run_sql(sql, inputs, ENROLMENT_TIME_SCHEMA, engine=engine, spark=spark)
