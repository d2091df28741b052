"""The ``riskstrat`` command line: composes the stages, configures logging.

This is the only module that configures logging, and (later) the only place
that reads the clock, for the default of ``--as-of``.
"""

from __future__ import annotations

import datetime as dt
import logging
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


def _load(data: Path, *, extract_date: dt.date | None):
    """load_tables with data-quality warnings sent to the log, not raised."""
    from riskstrat.sources import load_tables

    with warnings.catch_warnings():
        warnings.simplefilter("always", DataQualityWarning)
        return load_tables(data, extract_date=extract_date)


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
    data: Annotated[
        Path, typer.Argument(help="Folder of canonical CSV/Parquet files.")
    ],
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
) -> None:
    """Validate a folder of canonical tables: counts per table, rejects written out."""
    import pyarrow.csv as pacsv

    extract = (
        None if extract_date is None else _parse_date(extract_date, "--extract-date")
    )
    try:
        tables = _load(data, extract_date=extract)
    except (SchemaError, FileNotFoundError, NotADirectoryError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
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
) -> None:
    """Build point-in-time features (one row per person alive and registered)."""
    from riskstrat.features import build_features, make_labels
    from riskstrat.sources._tables import write_parquet_atomic

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"--engine must be duckdb or spark. Got {engine!r}.")
    day = _parse_date(as_of, "--as-of")
    try:
        tables = _load(data, extract_date=None)
    except (SchemaError, FileNotFoundError, NotADirectoryError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
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


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo outputs.")] = Path(
        "data/demo"
    ),
    patients: Annotated[int, typer.Option(help="People to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
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
    console.print("\nOutputs:")
    console.print(f"  canonical tables + truth.json  {source}")
    console.print(f"  rejected rows                  {rejects}")


def main() -> None:
    """Entry point of the ``riskstrat`` console script."""
    app()


if __name__ == "__main__":
    main()
