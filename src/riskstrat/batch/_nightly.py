"""The nightly scoring run: one command, atomic and idempotent, logged.

This only composes stages: open the input (:func:`riskstrat.sources.open_tables`),
refuse too many rejects, load the registered model and pin its version, check
the feature schema the model's specification builds against the one it was
trained on (before reading any data), build the cohort's features, score,
compare with the model's training distribution, and publish everything in
``OUT/runs/<as_of>/`` at once (:mod:`riskstrat.batch._publish`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import riskstrat
from riskstrat._utils import check_date, write_parquet
from riskstrat.alerts import RunSnapshot, diff_runs
from riskstrat.batch._manifest import file_digest, input_files, manifest_text
from riskstrat.batch._monitoring import monitoring_table
from riskstrat.batch._publish import latest_run, publish_lock, publishing
from riskstrat.explain import reasons
from riskstrat.features import build_cohort, feature_schema, make_labels
from riskstrat.model import (
    check_features,
    known_labels,
    load_bed_days_model,
    load_model,
    score,
    score_bed_days,
)
from riskstrat.sources import ValidatedFolder, open_tables
from riskstrat.stratify import Caseloads, StratifySettings, assign_tiers, caseloads

__all__ = ["NightlyRun", "NightlySettings", "TooManyRejectsError", "run_nightly"]

logger = logging.getLogger(__name__)

#: Environment variable naming a stage in which a run holds for 120 s (fault drills:
#: kill the run there and check that nothing of it is visible).
FAULT_DRILL_VARIABLE = "RISKSTRAT_FAULT_DRILL_STAGE"

#: Stages of a nightly run, in order (the run log names each as it starts).
STAGES = (
    "open",
    "model",
    "features",
    "score",
    "stratify",
    "alerts",
    "explain",
    "monitor",
    "write",
    "publish",
)

#: Feature columns kept with each run for the next run's alerts.
SNAPSHOT_COLUMNS = (
    "patient_id",
    "as_of",
    "em_admissions_12m",
    "drugs_90d",
    "rule_frail_admission",
    "residence_type",
    "admissions_12m",
)


class TooManyRejectsError(ValueError):
    """A table of the input lost more rows to rejects than the run allows."""


@dataclass(frozen=True, kw_only=True)
class NightlySettings:
    """Settings of the nightly run (saved in its manifest).

    Parameters
    ----------
    model : str, default="emergency-risk@champion"
        Registered model, ``NAME@ALIAS`` or ``NAME/VERSION``; the alias is
        resolved once and the version recorded.
    max_reject_share : float, default=0.01
        A table whose rejected share of rows read exceeds this stops the run.
    keep_runs : int, default=60
        Published runs kept under ``OUT/runs`` (older ones are removed).
    engine : {"duckdb", "spark"}, default="duckdb"
    source : {"canonical", "omop", "synthea"}, default="canonical"
    source_options : dict, default={}
        The source reader's settings (``join_spells``, ``inpatient_urgency``...,
        see :func:`riskstrat.sources.load_source`), passed to ``open_tables``.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``models/``).
    localities : path, optional
        The localities file (case managers per locality): with it the run
        writes caseloads, waiting lists and the excluded; without it, tiers and
        alerts only.
    stratify : StratifySettings, default=StratifySettings()
        Eligibility, tiers, priority, capacity defaults, alert thresholds.
    reasons_top : int, default=3
        Plain-language reasons per listed, waiting or alerted person.
    """

    model: str = "emergency-risk@champion"
    max_reject_share: float = 0.01
    keep_runs: int = 60
    engine: Literal["duckdb", "spark"] = "duckdb"
    source: Literal["canonical", "omop", "synthea"] = "canonical"
    source_options: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    localities: Path | None = None
    stratify: StratifySettings = field(default_factory=StratifySettings)
    reasons_top: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.max_reject_share <= 1:
            raise ValueError(
                "The `max_reject_share` parameter of NightlySettings must be in "
                f"[0, 1]. Got {self.max_reject_share!r} instead."
            )
        if self.keep_runs < 1:
            raise ValueError(
                "The `keep_runs` parameter of NightlySettings must be >= 1. "
                f"Got {self.keep_runs!r} instead."
            )


@dataclass(frozen=True)
class NightlyRun:
    """What a nightly run published.

    Attributes
    ----------
    folder : Path
        ``OUT/runs/<as_of>``.
    as_of : datetime.date
    model_name, model_version : str
    people : int
        People scored.
    previous : Path or None
        The newest complete run with an earlier ``as_of`` (what alerts compare
        with), if any.
    seconds : dict of str to float
    """

    folder: Path
    as_of: dt.date
    model_name: str
    model_version: str
    people: int
    previous: Path | None
    seconds: dict[str, float] = field(default_factory=dict)


def _write(table: pa.Table, folder: Path, name: str, *, csv: bool = True) -> dict:
    """``name.parquet`` (and ``name.csv``), deterministically; their digests."""
    path = write_parquet(table, folder / f"{name}.parquet")
    out = {f"{name}.parquet": {"rows": table.num_rows, "sha256": file_digest(path)}}
    if csv:
        csv_path = folder / f"{name}.csv"
        pacsv.write_csv(_flat(table), csv_path)
        out[f"{name}.csv"] = {"rows": table.num_rows, "sha256": file_digest(csv_path)}
    return out


def _flat(table: pa.Table) -> pa.Table:
    """List columns joined with "; " so a spreadsheet can show them."""
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            text = [None if v is None else "; ".join(v) for v in table[i].to_pylist()]
            table = table.set_column(i, f.name, pa.array(text, pa.string()))
    return table


def _counts(opened) -> tuple[pa.Table, pa.Table]:
    """Counts and rejects of an opened input (stored ones for a validated folder)."""
    if isinstance(opened, ValidatedFolder):
        return (
            pq.read_table(opened.path / "_counts.parquet"),
            pq.read_table(opened.path / "_rejects.parquet"),
        )
    return opened.counts, opened.rejects


def _check_rejects(counts: pa.Table, limit: float) -> dict[str, dict[str, int]]:
    per_table = {}
    for r in counts.to_pylist():
        per_table[r["table"]] = {
            "read": int(r["read"]),
            "accepted": int(r["accepted"]),
            "rejected": int(r["rejected"]),
        }
        if r["read"] and r["rejected"] / r["read"] > limit:
            raise TooManyRejectsError(
                f"{r['table']}: {r['rejected']:,} of {r['read']:,} rows rejected "
                f"({r['rejected'] / r['read']:.1%}), more than the {limit:.1%} "
                "allowed (--max-reject-share); see riskstrat validate. Nothing was "
                "published."
            )
    return per_table


@contextlib.contextmanager
def _run_log(folder: Path) -> Iterator[None]:
    """Copy riskstrat's log records into ``run.log`` while the run lasts."""
    handler = logging.FileHandler(folder / "run.log", encoding="utf-8")
    handler.setFormatter(
        logging.Formatter(
            "%(relativeCreated)9.0f ms %(levelname)s %(name)s %(message)s"
        )
    )
    handler.setLevel(logging.INFO)
    root = logging.getLogger("riskstrat")
    previous = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


def _score_on_spark(loaded, feats: pa.Table) -> pa.Table:
    """Score with ``mapInPandas`` on Spark; the keyed table back on the driver."""
    from riskstrat.features import spark_session
    from riskstrat.model import SCORE_SCHEMA, score_spark

    spark = spark_session()
    frame = spark.createDataFrame(feats)  # Arrow in: types kept
    out = score_spark(loaded, frame).toArrow()
    return out.cast(SCORE_SCHEMA).sort_by(
        [("patient_id", "ascending"), ("as_of", "ascending")]
    )


def _with_reasons(lists: Caseloads, why: pa.Table) -> Caseloads:
    """The caseload and waiting lists with each person's reasons, strongest first."""
    texts: dict[str, list[str]] = {}
    for r in why.sort_by(
        [("patient_id", "ascending"), ("rank", "ascending")]
    ).to_pylist():
        texts.setdefault(r["patient_id"], []).append(r["text"])

    def fill(table: pa.Table) -> pa.Table:
        values = [texts.get(pid, []) for pid in table["patient_id"].to_pylist()]
        i = table.schema.get_field_index("reasons")
        return table.set_column(
            i, table.schema.field(i), pa.array(values, table.schema.field(i).type)
        )

    return dataclasses.replace(
        lists, caseload=fill(lists.caseload), waiting=fill(lists.waiting)
    )


def _sorted(table: pa.Table | None) -> pa.Table:
    if table is None:
        return pa.table({"patient_id": pa.array([], pa.string())})
    return table.sort_by("patient_id")


def _read(folder: Path, name: str) -> pa.Table | None:
    path = folder / f"{name}.parquet"
    return pq.read_table(path) if path.is_file() else None


def _previous_lists(folder: Path | None) -> Caseloads | None:
    """The previous run's lists, if it wrote them (for the changes table)."""
    if folder is None or not (folder / "caseload.parquet").is_file():
        return None
    parts = {
        name: pq.read_table(folder / f"{name}.parquet")
        for name in ("caseload", "waiting", "excluded", "changes", "capacity", "tiers")
    }
    return Caseloads(as_of=dt.date.fromisoformat(folder.name), **parts)


def _previous_snapshot(folder: Path | None) -> tuple[RunSnapshot | None, list[str]]:
    """What the previous run saw (for alerts) and the alert keys raised so far."""
    if folder is None or _read(folder, "tiers") is None:
        return None, []
    keys = _read(folder, "alert_keys")
    scores = _read(folder, "tiers")
    return (
        RunSnapshot(
            as_of=dt.date.fromisoformat(folder.name),
            scores=scores,
            features=_read(folder, "snapshot"),
            below_cut_runs=_read(folder, "below_cut"),
        ),
        [] if keys is None else keys["key"].to_pylist(),
    )


def _matured(tables, folder: Path | None, as_of: dt.date):
    """The scores of a run a year or more older joined to outcomes since."""
    if folder is None:
        return None
    day = dt.date.fromisoformat(folder.name)
    old = pq.read_table(folder / "scores.parquet").to_pandas()
    labels = make_labels(tables, as_of=day).to_pandas()
    frame = old.merge(
        labels[["patient_id", "as_of", "emergency_admission"]],
        on=["patient_id", "as_of"],
        validate="1:1",
    ).rename(columns={"emergency_admission": "label"})
    return day, known_labels(frame, what=f"outcomes of the run of {day}")


def run_nightly(
    data,
    *,
    as_of: dt.date,
    out: str | Path,
    settings: NightlySettings | None = None,
    features: pa.Table | None = None,
    progress: Callable[[str], None] | None = None,
    environment: dict[str, Any] | None = None,
) -> NightlyRun:
    """Score everyone in the model's cohort on ``as_of`` and publish the run.

    Parameters
    ----------
    data : path-like or opened tables
        The input (:func:`riskstrat.sources.open_tables` decides what it is).
    as_of : datetime.date
    out : path-like
        ``OUT``: runs go to ``OUT/runs/<as_of>``, ``OUT/latest`` points to the
        newest complete one.
    settings : NightlySettings, optional
    features : pyarrow.Table, optional
        A feature table built elsewhere (e.g. on a cluster) to score instead of
        building one; it must match the model's features exactly.
    progress : callable, optional
        Called with each stage's name as it starts (for a progress display).
    environment : dict, optional
        Facts for the manifest's environment section (e.g. the start time the
        command line read); nothing here reads the clock.

    Returns
    -------
    NightlyRun

    Raises
    ------
    RunLockedError
        Another run holds ``OUT``.
    TooManyRejectsError, SchemaError, LookupError, ValueError
        Nothing is published; earlier runs and ``OUT/latest`` are untouched.
    """
    settings = settings or NightlySettings()
    as_of = check_date(as_of, "as_of")
    out = Path(out)
    seconds: dict[str, float] = {}
    started: dict[str, float] = {}

    def stage(name: str) -> None:
        """Close the running stage's timing, start ``name`` and say so."""
        now = time.perf_counter()
        for done, t0 in started.items():
            seconds.setdefault(done, round(now - t0, 3))
        started[name] = now
        logger.info("stage %s", name)
        if progress is not None:
            progress(name)
        if os.environ.get(FAULT_DRILL_VARIABLE) == name:
            # A fault drill: hold the run inside this stage so that it can be
            # killed there (docs/nightly.md, "Fault drills"; the kill tests).
            logger.warning("fault drill: holding stage %s for 120 s", name)
            time.sleep(120)

    with (
        publish_lock(out),
        publishing(out, as_of, keep=settings.keep_runs) as folder,
        _run_log(folder),
    ):
        stage("open")
        opened = open_tables(
            data,
            source=settings.source,
            extract_date=None,
            **settings.source_options,
        )
        counts, rejects = _counts(opened)
        per_table = _check_rejects(counts, settings.max_reject_share)

        stage("model")
        loaded = load_model(settings.model, tracking_uri=settings.tracking_uri)
        spec = loaded.design.feature_spec
        check_features(loaded, feature_schema(spec))  # before any data is read
        beds = None  # ranking by expected bed days: the bed-days model of its run
        if settings.stratify.priority == "expected_bed_days":
            beds = load_bed_days_model(loaded, tracking_uri=settings.tracking_uri)
            check_features(beds, feature_schema(spec))

        stage("features")
        # Read once: the tables with prescriptions in the drug window are all the
        # features, lists, alerts and reasons need.
        tables = opened.read(
            issued_from=as_of - dt.timedelta(days=spec.drug_days), issued_before=as_of
        )
        feats = features
        if feats is None:
            feats = build_cohort(
                tables,
                as_of=as_of,
                spec=spec,
                min_age=loaded.design.cohort.min_age,
                max_age=loaded.design.cohort.max_age,
                labels=False,
                engine=settings.engine,
            )

        stage("score")
        if settings.engine == "spark":  # on the executors, the same trees
            scores = _score_on_spark(loaded, feats)
        else:
            scores = score(loaded, feats)
        ranked = scores
        if beds is not None:
            expected = score_bed_days(beds, feats)
            ranked = scores.join(
                expected.select(["patient_id", "as_of", "expected_bed_days"]),
                keys=["patient_id", "as_of"],
                join_type="left outer",
            ).sort_by([("patient_id", "ascending"), ("as_of", "ascending")])

        stage("stratify")
        previous = latest_run(out, before=as_of)
        lists = None
        if settings.localities is not None:
            lists = caseloads(
                ranked,
                feats,
                as_of=as_of,
                localities=settings.localities,
                tables=tables,
                settings=settings.stratify,
                previous=_previous_lists(previous),
            )
            tiers = lists.tiers
        else:  # no capacity to fill: tiers among the eligible ages only
            old = feats.filter(
                pc.greater_equal(feats["age"], settings.stratify.min_age)
            ).select(["patient_id", "as_of"])
            tiers = assign_tiers(
                scores.join(
                    old, keys=["patient_id", "as_of"], join_type="inner"
                ).sort_by("patient_id"),
                settings=settings.stratify,
            )

        stage("alerts")
        snapshot = RunSnapshot(
            as_of=as_of,
            scores=tiers,
            features=feats.select(
                [c for c in SNAPSHOT_COLUMNS if c in feats.column_names]
            ),
        )
        before, raised = _previous_snapshot(previous)
        alerts = diff_runs(
            before,
            snapshot,
            tables=tables,
            settings=settings.stratify,
            raised=raised,
        )
        if alerts.notice:
            logger.info("alerts: %s", alerts.notice)

        stage("explain")  # only the people a case manager will see
        shown = set(alerts.alerts["patient_id"].to_pylist())
        shown |= set(alerts.step_down["patient_id"].to_pylist())
        if lists is not None:
            shown |= set(lists.caseload["patient_id"].to_pylist())
            shown |= set(lists.waiting["patient_id"].to_pylist())
        why = reasons(
            loaded,
            feats,
            tables,
            as_of=as_of,
            patient_ids=sorted(shown),
            top=settings.reasons_top,
            spec=spec,
        )
        if lists is not None:
            lists = _with_reasons(lists, why)

        stage("monitor")
        year_ago = [
            p
            for p in sorted((out / "runs").glob("????-??-??"))
            if (p / "scores.parquet").is_file()
            and dt.date.fromisoformat(p.name) <= as_of - dt.timedelta(days=365)
        ]
        extract = getattr(opened, "extract_date", None)
        old = year_ago[-1] if year_ago else None
        if (
            old is not None
            and extract is not None
            and dt.date.fromisoformat(old.name) + dt.timedelta(days=365) > extract
        ):
            old = None  # its outcomes are not all in the data yet
        monitoring = monitoring_table(
            loaded.reference,
            feats,
            scores,
            matured=_matured(opened, old, as_of),
        )

        stage("write")
        outputs: dict[str, Any] = {}
        outputs |= _write(scores, folder, "scores")
        if beds is not None:
            outputs |= _write(expected, folder, "expected_bed_days")
        outputs |= _write(
            rejects.sort_by([("table", "ascending"), ("row", "ascending")])
            if rejects.num_rows
            else rejects,
            folder,
            "rejects",
        )
        outputs |= _write(monitoring, folder, "monitoring", csv=False)
        outputs |= _write(tiers, folder, "tiers", csv=False)
        outputs |= _write(
            pa.concat_tables([alerts.alerts, alerts.step_down]).sort_by(
                [("kind", "ascending"), ("key", "ascending")]
            ),
            folder,
            "alerts",
        )
        outputs |= _write(
            _sorted(alerts.current.features), folder, "snapshot", csv=False
        )
        if alerts.current.below_cut_runs is not None:
            outputs |= _write(
                alerts.current.below_cut_runs.sort_by("patient_id"),
                folder,
                "below_cut",
                csv=False,
            )
        keys = sorted(set(raised) | set(alerts.keys))
        outputs |= _write(
            pa.table({"key": pa.array(keys, pa.string())}),
            folder,
            "alert_keys",
            csv=False,
        )
        outputs |= _write(
            why.sort_by([("patient_id", "ascending"), ("rank", "ascending")]),
            folder,
            "reasons",
        )
        if lists is not None:
            for name in ("caseload", "waiting", "excluded", "changes", "capacity"):
                outputs |= _write(getattr(lists, name), folder, name)
        source_path = getattr(opened, "path", data)
        content = {
            "as_of": as_of.isoformat(),
            "riskstrat_version": riskstrat.__version__,
            "settings": asdict(settings),
            "inputs": {
                "files": input_files(Path(source_path))
                if isinstance(source_path, str | Path)
                else [],
                "extract_date": None if extract is None else extract.isoformat(),
                "tables": per_table,
            },
            "model": {
                "name": loaded.name,
                "version": loaded.version,
                "run_id": loaded.run_id,
                "feature_schema_hash": loaded.feature_schema["hash"],
            },
            "bed_days_model": None
            if beds is None
            else {"name": beds.name, "version": beds.version, "run_id": beds.run_id},
            "people_scored": scores.num_rows,
            "alerts": {
                "step_up": alerts.alerts.num_rows,
                "step_down": alerts.step_down.num_rows,
                "notice": alerts.notice,
            },
            "lists": None
            if lists is None
            else {
                name: getattr(lists, name).num_rows
                for name in ("caseload", "waiting", "excluded", "changes")
            },
            "previous_run": None if previous is None else previous.name,
            "monitoring_flags": [
                f"{r['measure']}:{r['name']}"
                for r in monitoring.to_pylist()
                if r["flag"]
            ],
            "outputs": dict(sorted(outputs.items())),
        }
        stage("publish")
        (folder / "manifest.json").write_text(
            manifest_text(content, timings=seconds, extra_env=environment)
        )
    return NightlyRun(
        folder=out / "runs" / as_of.isoformat(),
        as_of=as_of,
        model_name=loaded.name,
        model_version=loaded.version,
        people=scores.num_rows,
        previous=previous,
        seconds=seconds,
    )
