"""The ``riskstrat`` command line: composes the stages, configures logging.

This is the only module that configures logging, and (later) the only place
that reads the clock, for the default of ``--as-of``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import warnings
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table as RichTable

from riskstrat.exceptions import DataQualityWarning, SchemaError

app = typer.Typer(
    name="riskstrat",
    help=(
        "Find the people most at risk of an emergency hospital admission, explain "
        "why, build case-management caseloads, and measure impact.\n\n"
        "Start with `riskstrat demo` (a synthetic population end to end)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _configure(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show debug logging.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")
    ] = False,
) -> None:
    # MLflow's download progress bars are noise in a log (application setting).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    logging.captureWarnings(True)


SourceOption = Annotated[
    str,
    typer.Option(
        help="Format of --data: canonical (folder of canonical tables), omop (OMOP "
        "CDM 5.3/5.4 folder or DuckDB file) or synthea (Synthea CSV folder)."
    ),
]


TrackingUriOption = Annotated[
    str | None,
    typer.Option(
        help="MLflow tracking store or server (default: MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlflow.db)."
    ),
]


# The source adapters' settings, defined once: every command that reads a
# source takes them (validate, features, train) and passes them to _load.
UrgencyOption = Annotated[
    str | None,
    typer.Option(
        help="omop, synthea: urgency of an inpatient stay with no emergency "
        "evidence: unknown (default; counted apart) or elective (only if your "
        "source codes every emergency admission)."
    ),
]
Icd10MapOption = Annotated[
    Path | None,
    typer.Option(help="synthea: CSV of SNOMED CT code, ICD-10 code (first columns)."),
]
DrugSystemOption = Annotated[
    str | None,
    typer.Option(
        help="canonical: coding system of prescriptions without a "
        "drug_code_system column (bnf, dmd, atc, rxnorm); default: inferred "
        "when every code fits one system, else an error."
    ),
]
JoinSpellsOption = Annotated[
    bool | None,
    typer.Option(
        "--join-spells/--no-join-spells",
        help="canonical, omop, synthea: join contiguous or overlapping inpatient "
        "stays of a person into one spell (default: join). A folder written by "
        "validate --out keeps what was chosen then.",
    ),
]
DrugIssueDaysOption = Annotated[
    int | None,
    typer.Option(
        help="omop: a drug exposure longer than this becomes repeat issues "
        "(default 28)."
    ),
]


def _source_options(
    *,
    inpatient_urgency: str | None = None,
    icd10_map: Path | None = None,
    drug_code_system: str | None = None,
    join_spells: bool | None = None,
    drug_issue_days: int | None = None,
) -> dict:
    """The adapter settings given on the command line (None = the default)."""
    given = {
        "inpatient_urgency": inpatient_urgency,
        "icd10_map": icd10_map,
        "drug_code_system": drug_code_system,
        "join_spells": join_spells,
        "drug_issue_days": drug_issue_days,
    }
    return {k: v for k, v in given.items() if v is not None}


def _open(
    data: Path,
    *,
    extract_date: dt.date | None,
    source: str = "canonical",
    scan: bool = True,
    encoding: str | None = None,
    options: dict | None = None,
):
    """The input, opened once (:func:`riskstrat.sources.open_tables`).

    A folder validated by riskstrat (with the same extract date, or when none is
    given) comes back as a handle each stage reads as it needs, with its own
    extract date (and the mapping report it keeps is printed); anything else is
    loaded and validated once. ``scan=False`` always loads and validates
    (``validate`` reports every row). ``options`` are the adapter settings.
    Data-quality warnings go to the log, not raised. A source that cannot be
    read (missing table or column, no such folder, an unreadable file), or an
    adapter setting the source does not take, is reported and ends the
    command with exit status 2.
    """
    from riskstrat.sources import SOURCES, load_source, open_tables

    if source not in SOURCES:
        raise typer.BadParameter(
            f"--source must be one of {', '.join(SOURCES)}. Got {source!r}."
        )
    read = open_tables if scan else load_source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataQualityWarning)
            tables = read(
                data,
                source=source,  # type: ignore[arg-type]
                extract_date=extract_date,
                **{
                    **(options or {}),
                    **({} if encoding is None else {"encoding": encoding}),
                },
            )
    except (SchemaError, OSError, ValueError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    report = tables.mapping
    if report is not None and report.source != "canonical":
        _print_mapping(report)
    for note in () if report is None else report.notes:
        console.print(f"  note: {note}")
    return tables


def _spec(path: Path | None):
    """The feature specification of ``--spec`` (JSON), or the default one."""
    from riskstrat.features import FeatureSpec

    if path is None:
        return FeatureSpec()
    try:
        return FeatureSpec.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise typer.BadParameter(
            f"--spec {path}: not a readable FeatureSpec JSON ({exc})."
        ) from None


SpecOption = Annotated[
    Path | None,
    typer.Option(
        help="Feature specification as JSON (FeatureSpec fields, e.g. "
        '{"windows_days": [91, 365]}); default: the standard one.'
    ),
]


def _print_mapping(report) -> None:
    rt = RichTable(title=f"Mapping from {report.source}")
    for col in ("source table", "canonical table", "read", "mapped", "unmapped"):
        rt.add_column(col, justify="right" if col[0] in "rmu" else "left")
    for r in report.tables.to_pylist():
        rt.add_row(
            r["source_table"],
            r["canonical_table"],
            f"{r['read']:,}",
            f"{r['mapped']:,}",
            f"{r['unmapped']:,}",
        )
    console.print(rt)
    for r in report.unmapped.to_pylist():
        console.print(
            f"  {r['source_table']}: {r['rows']:,} rows unmapped ({r['reason']})"
        )
    if report.not_computable:
        console.print(
            "  [yellow]cannot be computed from this source (null):[/] "
            + ", ".join(report.not_computable)
        )
    for r in report.features.to_pylist():
        if r["status"] == "partial":
            console.print(f"  [yellow]partial:[/] {r['feature_group']} ({r['reason']})")


def _parse_date(value: str, option: str) -> dt.date:
    from riskstrat._utils import check_date

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{option} must be a date as YYYY-MM-DD. Got {value!r}."
        ) from None
    try:
        return check_date(day, option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _counts_table(tables, title: str) -> RichTable:
    rt = RichTable(title=title)
    for col in ("table", "source file", "read", "accepted", "rejected"):
        rt.add_column(
            col, justify="right" if col in {"read", "accepted", "rejected"} else "left"
        )
    for row in tables.counts.to_pylist():
        absent = row["table"] in tables.absent
        rt.add_row(
            row["table"],
            "(absent)" if absent else (row["source_file"] or "-"),
            f"{row['read']:,}",
            f"{row['accepted']:,}",
            f"{row['rejected']:,}"
            if not row["rejected"]
            else f"[red]{row['rejected']:,}",
        )
    return rt


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the canonical tables to.")],
    patients: Annotated[int, typer.Option(help="People to simulate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    start: Annotated[str, typer.Option(help="First simulated day.")] = "2019-04-01",
    end: Annotated[
        str, typer.Option(help="Extract date (exclusive end).")
    ] = "2024-04-01",
    programme_start: Annotated[
        str | None,
        typer.Option(help="Start a case-management programme on this date."),
    ] = None,
    hazard_ratio: Annotated[
        float, typer.Option(help="Programme's true effect on the admission hazard.")
    ] = 0.8,
    uptake: Annotated[float, typer.Option(help="Share of eligible who enrol.")] = 0.5,
) -> None:
    """Generate a synthetic population (canonical Parquet tables + truth.json)."""
    from riskstrat.synth import Programme, make_population

    programme = None
    if programme_start is not None:
        programme = Programme(
            start=_parse_date(programme_start, "--programme-start"),
            hazard_ratio=hazard_ratio,
            uptake=uptake,
        )
    pop = make_population(
        patients,
        start=_parse_date(start, "--start"),
        end=_parse_date(end, "--end"),
        random_state=seed,
        programme=programme,
    )
    pop.write(out)
    console.print(_counts_table(pop.tables, f"Synthetic population (seed {seed})"))
    console.print(f"Wrote canonical tables and truth.json to [bold]{out}[/]")


@app.command()
def validate(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Deprecated: give the folder as --data, as features and train do."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Folder (or file) of the source data."),
    ] = None,
    rejects: Annotated[
        Path, typer.Option(help="Where to write the rejected rows (CSV).")
    ] = Path("rejects.csv"),
    extract_date: Annotated[
        str | None,
        typer.Option(help="Date of the extract; later-dated rows are rejected."),
    ] = None,
    fail_on_rejects: Annotated[
        bool, typer.Option(help="Exit with status 1 when any row was rejected.")
    ] = False,
    source: SourceOption = "canonical",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Also write the validated tables here as Parquet (later stages "
            "scan this folder without validating again). Must be new or empty."
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(help="Replace a non-empty --out folder (its contents go)."),
    ] = False,
    encoding: Annotated[
        str,
        typer.Option(help="Text encoding of the CSV files (latin-1, cp1252, ...)."),
    ] = "utf-8",
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
) -> None:
    """Validate a folder of canonical tables: counts per table, rejects written out.

    Exit status: 0 done; 1 rows were rejected and --fail-on-rejects was given;
    2 could not run (a file or table cannot be read, a bad option, an --out
    folder that is not empty).
    """
    import pyarrow.csv as pacsv

    if folder is not None:
        if data is not None:
            raise typer.BadParameter("Give the folder once, as --data.")
        err_console.print(
            "[yellow]warning:[/] `riskstrat validate FOLDER` is deprecated; use "
            "`riskstrat validate --data FOLDER`, as features and train do."
        )
        data = folder
    if data is None:
        raise typer.BadParameter("Give the folder (or file) to validate as --data.")
    from riskstrat.sources._files import check_encoding
    from riskstrat.sources._tables import check_publishable, publish_folder

    extract = (
        None if extract_date is None else _parse_date(extract_date, "--extract-date")
    )
    try:
        encoding = check_encoding(encoding)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--encoding") from None
    if encoding != "utf-8" and source != "canonical":
        raise typer.BadParameter(
            "--encoding applies to canonical CSV files only.", param_hint="--encoding"
        )
    try:
        if out is not None:  # refuse before the work, not after it
            check_publishable(out, overwrite=overwrite)
    except FileExistsError as exc:
        _fail(str(exc))
    options = _source_options(
        inpatient_urgency=inpatient_urgency,
        icd10_map=icd10_map,
        drug_code_system=drug_code_system,
        join_spells=join_spells,
        drug_issue_days=drug_issue_days,
    )
    tables = _open(
        data,
        extract_date=extract,
        source=source,
        scan=False,
        encoding=encoding if source == "canonical" else None,
        options=options,
    )
    console.print(_counts_table(tables, f"Validation of {data}"))
    try:
        rejects.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(tables.rejects, rejects)
    except OSError as exc:
        _fail(f"cannot write the rejects to {rejects} ({exc.strerror or exc}).")
    n_rejected = tables.rejects.num_rows
    if n_rejected:
        by_rule = tables.rejects.group_by(["table", "rule"]).aggregate(
            [("row", "count")]
        )
        for r in sorted(by_rule.to_pylist(), key=lambda r: (r["table"], r["rule"])):
            console.print(
                f"  {r['table']}: {r['row_count']:,} rows rejected by {r['rule']}"
            )
    console.print(f"Wrote {n_rejected:,} rejected rows to [bold]{rejects}[/]")
    if out is not None:
        try:
            publish_folder(tables, out, overwrite=overwrite)
        except (OSError, FileExistsError) as exc:
            _fail(f"cannot write the validated tables to {out} ({exc}).")
        console.print(
            f"Wrote the validated tables (and the mapping report) to [bold]{out}[/]"
        )
    if n_rejected and fail_on_rejects:
        raise typer.Exit(code=1)


def _fail(message: str) -> NoReturn:
    """Print ``message`` as an error and end with exit status 2 (could not run)."""
    err_console.print(f"[red]error:[/] {message}")
    raise typer.Exit(code=2)


@app.command()
def features(
    data: Annotated[Path, typer.Option(help="Folder of canonical CSV/Parquet files.")],
    as_of: Annotated[
        str, typer.Option(help="Index date YYYY-MM-DD (events before it).")
    ],
    out: Annotated[Path, typer.Option(help="Parquet file to write the features to.")],
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (the spark extra).")
    ] = "duckdb",
    labels: Annotated[
        bool, typer.Option(help="Also write labels (365-day horizon) beside them.")
    ] = False,
    source: SourceOption = "canonical",
    spec: SpecOption = None,
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
) -> None:
    """Build point-in-time features (one row per person alive and registered)."""
    from riskstrat._utils import write_parquet
    from riskstrat.features import build_features, make_labels

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"--engine must be duckdb or spark. Got {engine!r}.")
    day = _parse_date(as_of, "--as-of")
    options = _source_options(
        inpatient_urgency=inpatient_urgency,
        icd10_map=icd10_map,
        drug_code_system=drug_code_system,
        join_spells=join_spells,
        drug_issue_days=drug_issue_days,
    )
    feature_spec = _spec(spec)
    tables = _open(data, extract_date=None, source=source, options=options)
    feats = build_features(tables, as_of=day, spec=feature_spec, engine=engine)  # type: ignore[arg-type]
    write_parquet(feats, out)
    console.print(
        f"Wrote {feats.num_rows:,} people x {feats.num_columns} columns as of {day} "
        f"to [bold]{out}[/]"
    )
    if labels:
        lab = make_labels(tables, as_of=day, engine=engine)  # type: ignore[arg-type]
        path = out.with_name(out.stem + "-labels.parquet")
        write_parquet(lab, path)
        console.print(f"Wrote labels to [bold]{path}[/]")


def _truth(data: Path):
    """The synthetic truth beside the data (``truth.json``), or None."""
    path = data / "truth.json"
    if not (data.is_dir() and path.exists()):
        return None
    from riskstrat.synth import Truth

    try:
        return Truth.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(f"{path.name}: {exc}")


def _check_mlflow_arguments(
    tracking_uri: str | None, register: str | None, alias: str
) -> None:
    """Refuse a bad store URI, model name or alias before any work (exit 2)."""
    from riskstrat.model import check_model_name, check_tracking_uri

    try:
        if tracking_uri is not None:
            check_tracking_uri(tracking_uri)
        check_model_name(register, alias if register else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _yearly_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _auroc_line(label: str, r: dict) -> str:
    """``label AUROC a (lo-hi), calibration slope b`` from a result row.

    The interval is left out when there is none (``--bootstraps 0``).
    """
    lo, hi = r.get("auroc_ci_low"), r.get("auroc_ci_high")
    missing = lo is None or hi is None or math.isnan(lo) or math.isnan(hi)
    ci = "" if missing else f" ({lo:.3f}-{hi:.3f})"
    return (
        f"{label} AUROC {r['auroc']:.3f}{ci}, "
        f"calibration slope {r['calibration_slope']:.2f}"
    )


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Folder (or file) of the source data.")],
    as_of: Annotated[
        str,
        typer.Option(
            help="Training index date T0: features before it, labels in the year "
            "after it."
        ),
    ],
    register: Annotated[
        str | None,
        typer.Option(help="Register the model under this name (MLflow registry)."),
    ] = None,
    alias: Annotated[str, typer.Option(help="Alias of the registered version.")] = (
        "champion"
    ),
    test_as_of: Annotated[
        str | None,
        typer.Option(help="Test index date T1 (default: one year after --as-of)."),
    ] = None,
    snapshots: Annotated[
        int,
        typer.Option(help="Yearly training snapshots stacked, ending at --as-of."),
    ] = 1,
    min_age: Annotated[int, typer.Option(help="Youngest age in the cohort.")] = 18,
    outcome: Annotated[
        str, typer.Option(help="emergency_admission or composite (with death).")
    ] = "emergency_admission",
    extract_date: Annotated[
        str | None,
        typer.Option(
            help="Date of the extract (default: truth.json's end for synthetic data)."
        ),
    ] = None,
    tracking_uri: TrackingUriOption = None,
    bootstraps: Annotated[
        int, typer.Option(help="Bootstrap resamples for confidence intervals.")
    ] = 200,
    oracle_paths: Annotated[
        int,
        typer.Option(
            help="Synthetic data: simulated futures per person for the oracle "
            "(fewer run faster and read low; 64 or more for validity figures).",
            min=1,
        ),
    ] = 64,
    seed: Annotated[int, typer.Option(help="Random seed of the run.")] = 0,
    source: SourceOption = "canonical",
    spec: SpecOption = None,
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
    bed_days: Annotated[
        bool,
        typer.Option(
            "--bed-days/--no-bed-days",
            help="Also train, evaluate and register the expected-bed-days model "
            "(registered as NAME-bed-days with the same alias).",
        ),
    ] = True,
) -> None:
    """Train, evaluate on a later year, log to MLflow and optionally register."""
    from riskstrat.batch import run_training
    from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign

    t0 = _parse_date(as_of, "--as-of")
    t1 = _parse_date(test_as_of, "--test-as-of") if test_as_of else _yearly_after(t0, 1)
    if snapshots < 1:
        raise typer.BadParameter(f"--snapshots must be >= 1. Got {snapshots}.")
    try:
        design = ModelDesign(
            cohort=CohortSettings(min_age=min_age, outcome=outcome),  # type: ignore[arg-type]
            temporal=TemporalDesign(
                train_as_of=tuple(
                    _yearly_after(t0, -k) for k in reversed(range(snapshots))
                ),
                test_as_of=t1,
            ),
            feature_spec=_spec(spec),
            random_state=seed,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    _check_mlflow_arguments(tracking_uri, register, alias)
    truth = _truth(data)
    if extract_date is not None:
        extract: dt.date | None = _parse_date(extract_date, "--extract-date")
    else:  # a synthetic population's extract date is its end
        extract = None if truth is None else truth.end
    options = _source_options(
        inpatient_urgency=inpatient_urgency,
        icd10_map=icd10_map,
        drug_code_system=drug_code_system,
        join_spells=join_spells,
        drug_issue_days=drug_issue_days,
    )
    tables = _open(data, extract_date=extract, source=source, options=options)
    extract = tables.extract_date
    if extract is None:
        err_console.print(
            "[yellow]warning:[/] no --extract-date: outcomes after the last event "
            "in the data are taken as none."
        )
    stale = []
    k = 1
    while extract is not None and _yearly_after(t1, k + 1) <= extract:
        stale.append(_yearly_after(t1, k))
        k += 1
    try:
        result = run_training(
            tables,
            design,
            truth=truth,
            stale_as_of=stale,
            register=register,
            alias=alias,
            tracking_uri=tracking_uri,
            n_bootstraps=bootstraps,
            oracle_paths=oracle_paths,
            run_name=f"train-{t0.isoformat()}",
            bed_days=bed_days,
        )
    except (ValueError, SchemaError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    rt = RichTable(title=f"Test year from {t1} ({result.n_test:,} people)")
    shown = {
        "auroc": "AUROC",
        "auprc": "AUPRC",
        "brier": "Brier",
        "calibration_slope": "cal. slope",
        "e_avg": "E-avg",
        "ppv_top_5pct": "PPV top 5%",
        "bed_day_share_top_5pct": "bed days top 5%",
    }
    cols = [c for c in shown if c in result.comparison.columns]
    rt.add_column("model")
    for c in cols:
        rt.add_column(shown[c], justify="right")
    for row in result.comparison.to_dict("records"):
        rt.add_row(
            str(row["model"]),
            *[
                f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c])
                for c in cols
            ],
        )
    console.print(rt)
    if not result.stale.empty:
        console.print("Scores of the model trained at T0, years later:")
        for r in result.stale.to_dict("records"):
            console.print(_auroc_line(f"  {r['scored_as_of']}:", r))
    if result.bed_day_capture is not None:
        bt = RichTable(title="Share of next-year emergency bed days captured")
        for c in ("caseload", "by risk", "by expected bed days", "by rules", "ceiling"):
            bt.add_column(c, justify="right")
        capture = result.bed_day_capture
        for cap, rows in capture.groupby("capacity", sort=True):
            share = rows.set_index("ranking")["share_captured"]
            bt.add_row(
                f"{cap:,} ({rows['share_of_cohort'].iloc[0]:.0%})",
                *[
                    f"{share[r]:.1%}"
                    for r in ("risk", "expected_bed_days", "rules", "ceiling")
                ],
            )
        console.print(bt)
    info = result.mlflow or {}
    console.print(
        f"MLflow run [bold]{info.get('run_id')}[/] in {info.get('tracking_uri')}"
    )
    if register:
        console.print(
            f"Registered [bold]{register}@{alias}[/] (version {info.get('version')})"
        )
        if info.get("bed_days_name"):
            console.print(
                f"Registered [bold]{info['bed_days_name']}@{alias}[/] "
                f"(version {info.get('bed_days_version')})"
            )


#: Exit codes of ``riskstrat score`` (and the other commands where they apply).
EXIT_REJECTS = 1  # rows were rejected beyond what is allowed
EXIT_INPUT = 2  # missing input, unreadable file, contract error, bad argument
EXIT_NO_MODEL = 3  # no such registered model (or store)
EXIT_MODEL_MISMATCH = 4  # the features differ from those the model was trained on
EXIT_LOCKED = 5  # another run is writing to the same output folder


@app.command()
def score(
    data: Annotated[Path, typer.Option(help="Folder (or file) of the source data.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Output folder: the run goes to OUT/runs/<as_of>/ and OUT/latest "
            "points to the newest complete run."
        ),
    ],
    model: Annotated[
        str, typer.Option(help="Registered model as NAME@ALIAS or NAME/VERSION.")
    ] = "emergency-risk@champion",
    features_file: Annotated[
        Path | None,
        typer.Option(
            "--features",
            help="Score this feature table (Parquet) instead of building features; "
            "it must match the model's features exactly.",
        ),
    ] = None,
    tracking_uri: TrackingUriOption = None,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (the spark extra).")
    ] = "duckdb",
    source: SourceOption = "canonical",
    max_reject_share: Annotated[
        float,
        typer.Option(help="Stop (exit 1) when a table loses more rows than this."),
    ] = 0.01,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the cluster to run on (e.g. "
            "spark://host:7077, yarn, k8s://...); default SPARK_MASTER, else local."
        ),
    ] = None,
    keep: Annotated[int, typer.Option(help="Published runs to keep.")] = 60,
    localities: Annotated[
        Path | None,
        typer.Option(
            help="Localities file (locality, case_managers_fte, caseload_per_fte, "
            "reserve_share): with it the run writes caseloads and waiting lists."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Index date YYYY-MM-DD to score on (default: today)."),
    ] = None,
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
) -> None:
    """The nightly run: score everyone in the model's cohort and publish the run.

    The alias is resolved once and the exact version recorded in every row and
    in the manifest. Features are built with the model's own specification and
    compared with those it was trained on (names, types, order) before any data
    is read. Everything is built in a hidden folder and published as
    OUT/runs/<as_of>/ by one rename; a failed or killed run leaves earlier runs
    and OUT/latest untouched. Exit codes: 1 too many rejects, 2 unreadable input
    or contract error, 3 no such model, 4 model and features differ, 5 another
    run holds OUT.
    """
    import pyarrow.parquet as pq

    from riskstrat.batch import (
        NightlySettings,
        RunLockedError,
        TooManyRejectsError,
        run_nightly,
    )

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"--engine must be duckdb or spark. Got {engine!r}.")
    day = dt.date.today() if as_of is None else _parse_date(as_of, "--as-of")
    if spark_master is not None:
        os.environ["SPARK_MASTER"] = spark_master  # read by features.spark_session
    try:
        settings = NightlySettings(
            model=model,
            max_reject_share=max_reject_share,
            keep_runs=keep,
            localities=localities,
            engine=engine,  # type: ignore[arg-type]
            source=source,  # type: ignore[arg-type]
            source_options=_source_options(
                inpatient_urgency=inpatient_urgency,
                icd10_map=icd10_map,
                drug_code_system=drug_code_system,
                join_spells=join_spells,
                drug_issue_days=drug_issue_days,
            ),
            tracking_uri=tracking_uri,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    features = None
    if features_file is not None:
        try:
            features = pq.read_table(features_file)
        except (OSError, ValueError) as exc:
            err_console.print(f"[red]error:[/] --features {features_file}: {exc}")
            raise typer.Exit(code=EXIT_INPUT) from None
    codes: tuple[tuple[type[Exception], int | None], ...] = (
        (RunLockedError, EXIT_LOCKED),
        (TooManyRejectsError, EXIT_REJECTS),
        (LookupError, EXIT_NO_MODEL),
        (SchemaError, None),
        (ValueError, EXIT_INPUT),
        (OSError, EXIT_INPUT),
    )
    try:
        with console.status("scoring") as status, warnings.catch_warnings():
            warnings.simplefilter("always", DataQualityWarning)  # to the log
            run = run_nightly(
                data,
                as_of=day,
                out=out,
                settings=settings,
                features=features,
                progress=lambda name: status.update(f"stage: {name}"),
                environment={"started": dt.datetime.now(dt.UTC).isoformat()},
            )
    except tuple(kind for kind, _ in codes) as exc:
        code = next(c for kind, c in codes if isinstance(exc, kind))
        if code is None:  # a schema error: the model's, or the input's
            code = EXIT_MODEL_MISMATCH if "trained on" in str(exc) else EXIT_INPUT
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=code) from None
    console.print(
        f"Scored {run.people:,} people as of {day} with [bold]{run.model_name} "
        f"v{run.model_version}[/]; published [bold]{run.folder}[/]"
    )


def _print_table(table, title: str) -> None:
    """A small Arrow table as a Rich table (numbers right-aligned)."""
    import pyarrow as pa

    rt = RichTable(title=title)
    for f in table.schema:
        numeric = pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        rt.add_column(f.name, justify="right" if numeric else "left")
    for row in table.to_pylist():
        rt.add_row(
            *[
                "-"
                if v is None
                else f"{v:,.1f}"
                if isinstance(v, float)
                else f"{v:,}"
                if isinstance(v, int) and not isinstance(v, bool)
                else str(v)
                for v in row.values()
            ]
        )
    console.print(rt)


@app.command()
def scope(
    capitation: Annotated[
        Path | None,
        typer.Option(
            help="CSV of area, weighted_capitation: share the total between areas "
            "(default: seed 003's Table one localities)."
        ),
    ] = None,
    total_patients: Annotated[
        int,
        typer.Option(help="Case-management patients for all areas together."),
    ] = 7644,
    caseload_per_fte: Annotated[
        int, typer.Option(help="Patients per full-time case manager.")
    ] = 50,
    tranche_share: Annotated[
        float, typer.Option(help="Share covered in the first tranche.")
    ] = 0.25,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Also: how many people each seed rule adds, cumulatively, "
            "against capacity (needs --as-of and --localities)."
        ),
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="Index date YYYY-MM-DD.")] = None,
    localities: Annotated[
        Path | None, typer.Option(help="Localities file (case managers per area).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write the tables to (CSV).")
    ] = None,
) -> None:
    """Scoping: expected case-management numbers, staff needed, cost; rule cascade.

    From weighted capitation (seed 003's Table one method): each area's share of
    the expected case-management patients, the case managers needed at a
    caseload, and their cost by Agenda for Change band (Table Two). With
    --data, the seed's "adapting to capacity" step on real or synthetic tables.
    """
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from riskstrat.stratify import rule_cascade, table_one
    from riskstrat.stratify import scope as run_scope

    if capitation is None:
        seed = table_one()
        rows = seed.filter(pc.equal(seed["level"], "locality"))
        source = rows.select(["area", "weighted_capitation"])
    else:
        source = capitation
    try:
        result = run_scope(
            source,
            total_patients=total_patients,
            caseload_per_fte=caseload_per_fte,
            tranche_share=tranche_share,
        )
    except (ValueError, OSError) as exc:
        raise typer.BadParameter(str(exc)) from None
    _print_table(
        result.areas,
        f"{result.total_patients:,} case-management patients "
        f"(first tranche {result.tranche:,}) at {caseload_per_fte} per case manager",
    )
    _print_table(
        result.costs.select(["band", "case_managers", "cost_min", "cost_max"]),
        "What the case managers would cost a year (£; roles in the CSV)",
    )
    tables = {"scope_areas": result.areas, "scope_costs": result.costs}
    if data is not None:
        if as_of is None or localities is None:
            raise typer.BadParameter("--data needs --as-of and --localities.")
        from riskstrat.features import build_features

        day = _parse_date(as_of, "--as-of")
        opened = _open(data, extract_date=None)
        cascade = rule_cascade(build_features(opened, as_of=day), localities=localities)
        _print_table(cascade, f"The seed's rules, cumulatively, on {day}")
        tables["rule_cascade"] = cascade
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            pacsv.write_csv(table, out / f"{name}.csv")
        console.print(f"Wrote {', '.join(tables)} to [bold]{out}[/]")


@app.command()
def promote(
    data: Annotated[Path, typer.Option(help="Folder (or file) of the source data.")],
    challenger: Annotated[
        str, typer.Option(help="The new model, NAME@ALIAS or NAME/VERSION.")
    ],
    champion: Annotated[
        str | None,
        typer.Option(help="The model to beat (default: NAME@champion)."),
    ] = None,
    extract_date: Annotated[
        str | None,
        typer.Option(help="Date of the extract (default: a validated folder's own)."),
    ] = None,
    tracking_uri: TrackingUriOption = None,
    dry_run: Annotated[
        bool, typer.Option(help="Decide and log, but do not move the alias.")
    ] = False,
    source: SourceOption = "canonical",
) -> None:
    """Move the champion alias to a challenger only if it is not worse.

    Compared on the latest year whose outcomes have matured, on the same people:
    paired bootstrap of the AUROC difference, calibration slope and O/E. Exit 1
    when the challenger is refused.
    """
    from riskstrat.batch import promote as run_promote

    extract = _parse_date(extract_date, "--extract-date") if extract_date else None
    tables = _open(data, extract_date=extract, source=source)
    try:
        decision = run_promote(
            tables,
            challenger=challenger,
            champion=champion,
            tracking_uri=tracking_uri,
            dry_run=dry_run,
        )
    except LookupError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=EXIT_NO_MODEL) from None
    except (ValueError, SchemaError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=EXIT_INPUT) from None
    console.print(
        f"Compared {decision.challenger} with {decision.champion} on the year from "
        f"{decision.as_of}:"
    )
    console.print(decision.table.round(4).to_string(index=False))
    if decision.promoted:
        verb = "would be" if dry_run else "is now"
        console.print(f"[green]{decision.challenger} {verb} the champion.[/]")
        return
    console.print(f"[red]Not promoted:[/] {'; '.join(decision.reasons)}")
    raise typer.Exit(code=1)


#: Fewer matched sets than this get a warning beside the impact headline.
FEW_MATCHED_SETS = 50


def _evaluate_impact(
    data: Path,
    tables,
    *,
    out: Path,
    as_of: dt.date,
    settings,
    cost_per_bed_day: float,
) -> None:
    """Run the impact evaluation, write its tables and figures, print the headline.

    With ``truth.json`` and ``counterfactual/`` in ``data`` (a synthetic
    population), the true effect on the same matched people is printed and
    saved beside the estimate.
    """
    from riskstrat.impact import (
        estimate_effect,
        planning_curve,
        population_measures,
        save_impact_figures,
        true_effect,
        write_table,
    )

    try:
        result = estimate_effect(tables, as_of=as_of, settings=settings)
    except LookupError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=EXIT_NO_MODEL) from None
    except SchemaError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=EXIT_MODEL_MISMATCH) from None
    except ValueError as exc:
        _fail(f"impact: {exc}")
    base = tables.read(issued_from=result.data_end, issued_before=result.data_end)
    monthly = population_measures(
        base, data_end=result.data_end, cost_per_bed_day=cost_per_bed_day
    )
    curve = planning_curve(tables, result, cost_per_bed_day=cost_per_bed_day)
    truth = None
    if (data / "truth.json").is_file() and (data / "counterfactual").is_dir():
        matched = result.enrolled.loc[result.enrolled["n_controls"] > 0, "patient_id"]
        truth = true_effect(
            data,
            data / "counterfactual",
            as_of=as_of,
            settings=settings,
            patients=matched,
        )
    result.save(out)
    write_table(monthly, out, "impact_monthly")
    write_table(curve, out, "impact_planning")
    if truth is not None:
        write_table(truth, out, "impact_truth")
    save_impact_figures(out, result=result, monthly=monthly, curve=curve, truth=truth)
    pool = result.controls_label
    if settings.controls == "auto" and result.settings.controls != "declined":
        pool += " (the data has no declined screenings)"
    console.print(
        f"Impact of case management as of {result.data_end}: "
        f"{result.n_matched:,} of {result.n_enrolled:,} enrolled people matched "
        f"to controls ({result.n_unmatched:,} unmatched, listed in "
        f"impact_enrolled.csv); controls: {pool}"
    )
    rt = RichTable(title="Change per person-year (95 % CI)")
    for col in ("outcome", "matched (DiD)", "naive before/after", "placebo"):
        rt.add_column(col)
    if truth is not None:
        rt.add_column("truth")
    for outcome in ("emergency_admissions", "emergency_bed_days"):
        cells = [outcome.replace("_", " ")]
        for analysis in ("matched", "naive", "placebo"):
            r = result.get(analysis, outcome)
            cells.append(
                f"{r['estimate']:+.2f} ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})"
            )
        if truth is not None:
            t = truth.set_index("outcome").loc[outcome, "effect"]
            cells.append(f"{t:+.2f}")
        rt.add_row(*cells)
    console.print(rt)
    if result.n_matched < FEW_MATCHED_SETS:
        console.print(
            f"  [yellow]Only {result.n_matched} matched sets:[/] too few for a "
            "precise estimate (the benchmark in docs/evaluation.md had 110-130 at "
            "20,000 people); read the interval, not the point, or evaluate a longer "
            "period or more localities together."
        )
    adm, bed = (
        result.get("matched", o) for o in ("emergency_admissions", "emergency_bed_days")
    )

    def ev(x: float) -> str:
        return "not estimable" if x != x else f"{x:.2f}"

    console.print(
        "  Hidden selection (E-value): a difference the records do not show would "
        f"need a rate ratio of {ev(adm['e_value'])} with both enrolment and "
        f"admissions ({ev(bed['e_value'])} for bed days) to explain the matched "
        f"estimate away, and {ev(adm['e_value_ci'])} ({ev(bed['e_value_ci'])}) to "
        "move its CI to include no effect (1.00 when it already does); see "
        "docs/evaluation.md"
    )
    last = curve.iloc[-1]
    saved = last["bed_days_saved"]
    if saved > 0:
        what = f"would save about {saved:,.0f} emergency bed days a year ("
    else:
        what = f"would save no bed days by this estimate ({saved:,.0f} a year, "
    console.print(
        f"  {last['case_managers']:.1f} case managers (the scoping figure, "
        f"{int(last['scoping_patients']):,} patients) {what}95 % CI "
        f"{last['saved_low']:,.0f} to {last['saved_high']:,.0f}; "
        f"£{last['value_saved']:,.0f} at £{cost_per_bed_day:,.0f} a bed day)"
    )
    console.print(f"Wrote the impact tables and figures to [bold]{out}[/]")


@app.command()
def impact(
    data: Annotated[Path, typer.Option(help="Folder (or file) of the source data.")],
    out: Annotated[Path, typer.Option(help="Folder to write the tables and plots.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="Match on this registered model (NAME@ALIAS) instead of a "
            "prognostic score fitted in the run."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Evaluate as of this date (default: the extract date)."),
    ] = None,
    cost_per_bed_day: Annotated[
        float, typer.Option(help="£ per emergency bed day (seed 003: £300).")
    ] = 300.0,
    seed: Annotated[int, typer.Option(help="Seed of the score and bootstrap.")] = 0,
    bootstraps: Annotated[
        int, typer.Option(help="Bootstrap resamples for the 95 % CIs.")
    ] = 1000,
    controls: Annotated[
        str,
        typer.Option(
            help="Controls: 'declined' (declined at screening in the 28 days up "
            "to the date; needs a screenings table), 'not_enrolled' (anyone on "
            "the list not enrolled by then) or 'auto' (declined when the data "
            "has such screenings)."
        ),
    ] = "auto",
    tracking_uri: TrackingUriOption = None,
    source: SourceOption = "canonical",
) -> None:
    """Estimate whether case management reduced emergency admissions and bed days.

    Enrolled people against controls matched on the enrolment date, as a
    difference in differences with a bootstrap CI, beside the naive
    before/after; population rates against a baseline and the -5 % target; and
    the bed days a number of case managers could save. Exit codes: 2 unreadable
    input, no enrolments or a bad option; 3 no such model; 4 model and features
    differ.
    """
    from riskstrat.impact import ImpactSettings

    if cost_per_bed_day < 0 or not math.isfinite(cost_per_bed_day):
        raise typer.BadParameter(
            f"--cost-per-bed-day must be a number >= 0. Got {cost_per_bed_day}."
        )
    try:
        settings = ImpactSettings(
            model=model,
            tracking_uri=tracking_uri,
            random_state=seed,
            n_bootstraps=bootstraps,
            controls=controls,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if model is not None:
        _check_mlflow_arguments(tracking_uri, None, "champion")
    tables = _open(data, extract_date=None, source=source)
    if as_of is not None:
        day = _parse_date(as_of, "--as-of")
    elif tables.extract_date is not None:
        day = tables.extract_date
    else:
        day = dt.date.today()
    _evaluate_impact(
        data,
        tables,
        out=out,
        as_of=day,
        settings=settings,
        cost_per_bed_day=cost_per_bed_day,
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo outputs.")] = Path(
        "data/demo"
    ),
    patients: Annotated[int, typer.Option(help="People to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    model_name: Annotated[
        str, typer.Option(help="Name to register the demo model under.")
    ] = "emergency-risk",
) -> None:
    """Run everything that exists on a synthetic population and say where it went."""
    from riskstrat.synth import Programme, make_population

    source = out / "source"
    # A case-management programme for the last two years, with a known effect
    # (hazard ratio 0.85), so step 6 can show the evaluator against the truth.
    demo_end = dt.date(2024, 4, 1)
    programme = Programme(start=_yearly_after(demo_end, -2), hazard_ratio=0.85)
    pop = make_population(
        patients, end=demo_end, random_state=seed, programme=programme
    )
    pop.write(source)
    console.print(
        f"1. generated {patients:,} people into [bold]{source}[/] (a case-management "
        f"programme from {programme.start}, true hazard ratio "
        f"{programme.hazard_ratio})"
    )
    tables = _open(source, extract_date=pop.truth.end, scan=False)
    console.print(_counts_table(tables, "2. validated"))
    rejects = out / "rejects.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(tables.rejects, rejects)

    from riskstrat.batch import run_training
    from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign

    end = pop.truth.end
    t0, t1, t2 = (_yearly_after(end, -k) for k in (3, 2, 1))
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(train_as_of=(t0,), test_as_of=t1),
        random_state=seed,
    )
    result = run_training(
        tables,
        design,
        truth=pop.truth,
        stale_as_of=[t2],
        register=model_name,
        run_name=f"demo-{t0.isoformat()}",
    )
    evaluation = out / "evaluation"
    result.evaluations["lightgbm"].save(evaluation)
    result.comparison.to_csv(evaluation / "comparison.csv", index=False)
    from riskstrat.report import save_figures

    save_figures(result.evaluations["lightgbm"], evaluation, name="lightgbm")
    console.print(
        f"3. trained at {t0}, tested on the year from {t1} ({result.n_test:,} people):"
    )
    for row in result.comparison.to_dict("records"):
        console.print(_auroc_line(f"   {row['model']:<9}", row))
    info = result.mlflow or {}
    console.print(
        f"4. registered [bold]{model_name}@champion[/] (version {info.get('version')})"
    )
    from riskstrat.batch import NightlySettings, run_nightly

    nightly = out / "nightly"
    localities = out / "localities.csv"
    localities.write_text(_demo_localities(tables))
    settings = NightlySettings(model=f"{model_name}@champion", localities=localities)
    runs = []
    for day in (_monthly_before(end, 2), _monthly_before(end, 1)):
        runs.append(run_nightly(source, as_of=day, out=nightly, settings=settings))
        r = runs[-1]
        console.print(
            f"5. nightly run {day}: {r.people:,} people scored with "
            f"{r.model_name} v{r.model_version} -> {r.folder}"
        )
    _show_caseload(runs[-1].folder)
    from riskstrat.impact import ImpactSettings

    impact_out = out / "impact"
    console.print(
        "6. did the programme work? Enrolled people against matched controls "
        "(difference in differences), beside the naive before/after and the truth:"
    )
    _evaluate_impact(
        source,
        _open(source, extract_date=None),
        out=impact_out,
        as_of=end,
        settings=ImpactSettings(random_state=seed),
        cost_per_bed_day=300.0,
    )
    console.print("\nOutputs:")
    console.print(f"  canonical tables + truth.json  {source}")
    console.print(f"  rejected rows                  {rejects}")
    console.print(f"  evaluation tables and figures  {evaluation}")
    console.print(f"  MLflow runs and registry       {info.get('tracking_uri')}")
    console.print(f"  nightly runs (latest)          {nightly / 'latest'}")
    console.print(
        f"    caseloads, waiting lists     {nightly / 'latest' / 'caseload.csv'}"
    )
    console.print(
        f"    alerts                       {nightly / 'latest' / 'alerts.csv'}"
    )
    console.print(f"  impact tables and figures      {impact_out}")


def _demo_localities(tables) -> str:
    """A localities file for the demo: 0.6 FTE per locality of the population."""
    import pyarrow.compute as pc

    names = sorted(
        v for v in pc.unique(tables.patients["locality"]).to_pylist() if v is not None
    )
    rows = "".join(f"{name},0.6,50,0.15\n" for name in names)
    return "locality,case_managers_fte,caseload_per_fte,reserve_share\n" + rows


def _monthly_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` before ``day`` (the 28th at most)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, 28))


def _show_caseload(folder: Path) -> None:
    """Print the head of one locality's caseload and the alerts of a run."""
    import pyarrow.parquet as pq

    cl = pq.read_table(folder / "caseload.parquet").to_pandas()
    alerts = pq.read_table(folder / "alerts.parquet").to_pandas()
    if cl.empty:
        console.print("   (no caseload: nobody eligible)")
        return
    where = str(cl["locality"].iloc[0])
    head = cl[cl["locality"] == where].head(5)
    rt = RichTable(
        title=f"Caseload of {where} on {folder.name} (first 5)", show_lines=True
    )
    for col in ("position", "patient", "tier", "risk", "status", "why"):
        rt.add_column(col)
    for r in head.itertuples():
        has_reasons = r.reasons is not None and len(r.reasons) > 0
        why = r.reasons if has_reasons else r.rules_met
        rt.add_row(
            str(r.position),
            str(r.patient_id),
            str(r.tier),
            f"{r.risk:.1%}",
            str(r.status),
            "\n".join(list(why)) if why is not None and len(why) else "-",
        )
    console.print(rt)
    console.print(
        f"   {len(alerts):,} alerts since the previous run "
        f"({', '.join(sorted(set(alerts['trigger'])))})"
        if len(alerts)
        else "   no alerts since the previous run"
    )


def main() -> None:
    """Entry point of the ``riskstrat`` console script."""
    app()


if __name__ == "__main__":
    main()
