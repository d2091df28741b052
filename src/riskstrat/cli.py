"""The ``riskstrat`` command line: composes the stages, configures logging.

This is the only module that configures logging, and (later) the only place
that reads the clock, for the default of ``--as-of``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import warnings
from pathlib import Path
from typing import Annotated

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
        help="omop, synthea: join contiguous or overlapping inpatient stays into "
        "one spell (default: join).",
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


def _load(
    data: Path,
    *,
    extract_date: dt.date | None,
    source: str = "canonical",
    options: dict | None = None,
):
    """load_source with data-quality warnings sent to the log, not raised.

    A source that cannot be read (missing table or column, no such folder), or
    an adapter setting the source does not take, is reported and ends the
    command with exit status 2.
    """
    from riskstrat.sources import SOURCES, load_source

    if source not in SOURCES:
        raise typer.BadParameter(
            f"--source must be one of {', '.join(SOURCES)}. Got {source!r}."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataQualityWarning)
            tables = load_source(
                data,
                source=source,  # type: ignore[arg-type]
                extract_date=extract_date,
                **(options or {}),
            )
    except (SchemaError, FileNotFoundError, NotADirectoryError, ValueError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    if source != "canonical":
        _print_mapping(tables.mapping)
    return tables


def _open(
    data: Path,
    *,
    extract_date: dt.date | None,
    source: str,
    options: dict | None = None,
) -> tuple[object, dt.date | None]:
    """What the feature stages read, and the extract date that bounds labels.

    A folder validated by riskstrat (with the same extract date, or when none is
    given) is passed on as its path: each build reads it as it is, prescriptions
    only in the drug window, and it brings its extract date. Anything else is
    loaded and validated once (:func:`_load`).
    """
    from riskstrat.features._scan import validated_folder
    from riskstrat.sources._mapping import read_mapping

    found = validated_folder(data) if source == "canonical" else None
    if found is not None and extract_date in (None, found.extract_date):
        report = read_mapping(data)
        if report is not None and report.source != "canonical":
            _print_mapping(report)
        return data, found.extract_date
    tables = _load(data, extract_date=extract_date, source=source, options=options)
    return tables, extract_date


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
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{option} must be a date as YYYY-MM-DD. Got {value!r}."
        ) from None


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
            "scan this folder without validating again)."
        ),
    ] = None,
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
) -> None:
    """Validate a folder of canonical tables: counts per table, rejects written out."""
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
    extract = (
        None if extract_date is None else _parse_date(extract_date, "--extract-date")
    )
    options = _source_options(
        inpatient_urgency=inpatient_urgency,
        icd10_map=icd10_map,
        drug_code_system=drug_code_system,
        join_spells=join_spells,
        drug_issue_days=drug_issue_days,
    )
    tables = _load(data, extract_date=extract, source=source, options=options)
    console.print(_counts_table(tables, f"Validation of {data}"))
    rejects.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(tables.rejects, rejects)
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
        tables.to_parquet(out)
        console.print(
            f"Wrote the validated tables (and the mapping report) to [bold]{out}[/]"
        )
    if n_rejected and fail_on_rejects:
        raise typer.Exit(code=1)


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
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
) -> None:
    """Build point-in-time features (one row per person alive and registered)."""
    from riskstrat.features import build_features, make_labels
    from riskstrat.sources._tables import write_parquet_atomic

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
    tables, _ = _open(data, extract_date=None, source=source, options=options)
    feats = build_features(tables, as_of=day, engine=engine)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(feats, out)
    console.print(
        f"Wrote {feats.num_rows:,} people x {feats.num_columns} columns as of {day} "
        f"to [bold]{out}[/]"
    )
    if labels:
        lab = make_labels(tables, as_of=day, engine=engine)  # type: ignore[arg-type]
        path = out.with_name(out.stem + "-labels.parquet")
        write_parquet_atomic(lab, path)
        console.print(f"Wrote labels to [bold]{path}[/]")


def _truth(data: Path):
    """The synthetic truth beside the data (``truth.json``), or None."""
    path = data / "truth.json"
    if not (data.is_dir() and path.exists()):
        return None
    from riskstrat.synth import Truth

    return Truth.from_json(path.read_text())


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
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            help="MLflow store (default: MLFLOW_TRACKING_URI, else "
            "sqlite:///models/mlflow.db)."
        ),
    ] = None,
    bootstraps: Annotated[
        int, typer.Option(help="Bootstrap resamples for confidence intervals.")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Random seed of the run.")] = 0,
    source: SourceOption = "canonical",
    inpatient_urgency: UrgencyOption = None,
    icd10_map: Icd10MapOption = None,
    drug_code_system: DrugSystemOption = None,
    join_spells: JoinSpellsOption = None,
    drug_issue_days: DrugIssueDaysOption = None,
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
            random_state=seed,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
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
    tables, extract = _open(data, extract_date=extract, source=source, options=options)
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
            run_name=f"train-{t0.isoformat()}",
        )
    except ValueError as exc:
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
    info = result.mlflow or {}
    console.print(
        f"MLflow run [bold]{info.get('run_id')}[/] in {info.get('tracking_uri')}"
    )
    if register:
        console.print(
            f"Registered [bold]{register}@{alias}[/] (version {info.get('version')})"
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
    from riskstrat.synth import make_population

    source = out / "source"
    pop = make_population(patients, random_state=seed)
    pop.write(source)
    console.print(f"1. generated {patients:,} people into [bold]{source}[/]")
    tables = _load(source, extract_date=pop.truth.end)
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
    console.print("\nOutputs:")
    console.print(f"  canonical tables + truth.json  {source}")
    console.print(f"  rejected rows                  {rejects}")
    console.print(f"  evaluation tables and figures  {evaluation}")
    console.print(f"  MLflow runs and registry       {info.get('tracking_uri')}")


def main() -> None:
    """Entry point of the ``riskstrat`` console script."""
    app()


if __name__ == "__main__":
    main()
