"""Benchmark feature builds: DuckDB (in memory and from Parquet) against plain pandas.

Usage::

    python benchmarks/features.py --patients 100000            # generate, then compare
    python benchmarks/features.py --data DIR     # an existing Parquet folder

Each measurement runs in a fresh process so its peak RSS (``ru_maxrss``) is its
own. ``*-memory`` loads and validates the tables first (``load_tables``) and
times only the feature build; ``*-disk`` times building straight from the folder
of validated Parquet that ``riskstrat synth`` / ``riskstrat validate --out`` write:
``build_features(folder)`` reads them without re-validating (prescriptions only in
the drug window), pandas reads them whole with
pyarrow and converts them; neither validates a second time. The peak RSS of a
``*-memory`` run includes holding the validated tables.
``duckdb`` is ``riskstrat.features.build_features``;
``pandas`` is the groupby implementation in ``benchmarks/_pandas_features.py``.
The driver checks that all feature tables are equal and prints times, ratios and
peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _worker(mode: str, data: Path, as_of: dt.date, out: Path) -> dict:
    """One measurement ``<engine>-<source>``: duckdb|pandas, memory|disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from riskstrat.features import build_features, feature_schema
    from riskstrat.sources import load_tables

    sys.path.insert(0, str(HERE))
    from _pandas_features import pandas_features

    engine, source = mode.split("-")

    def run(tables):
        if engine == "duckdb":
            return build_features(tables, as_of=as_of)
        df = pandas_features(tables, as_of)
        return pa.Table.from_pandas(df, schema=feature_schema(), preserve_index=False)

    def from_disk():
        if engine == "duckdb":  # reads the validated folder, drug window only
            return build_features(data, as_of=as_of)
        # pandas reads the same validated files (no second validation either)
        from types import SimpleNamespace

        names = ("patients", "admissions", "prescriptions", "residences", "nominations")
        read = {n: pq.read_table(data / f"{n}.parquet") for n in names}
        df = pandas_features(SimpleNamespace(**read), as_of)
        return pa.Table.from_pandas(df, schema=feature_schema(), preserve_index=False)

    times = []
    tables = load_tables(data) if source == "memory" else None
    for _ in range(3):  # the first run is cold (as in a nightly process)
        tic = time.perf_counter()
        feats = run(tables) if tables is not None else from_disk()
        times.append(time.perf_counter() - tic)
    pq.write_table(feats, out)
    return {
        "mode": mode,
        "seconds": times[0],
        "warm_seconds": min(times[1:]),
        "peak_rss_gb": _rss_gb(),
        "rows": feats.num_rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=None, help="existing Parquet folder")
    ap.add_argument("--as-of", default="2023-04-01")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    as_of = dt.date.fromisoformat(args.as_of)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, as_of, args.out)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="riskstrat-bench-"))
    data = args.data
    if data is None:
        from riskstrat.synth import make_population

        tic = time.perf_counter()
        make_population(args.patients, random_state=0).write(tmp / "pop")
        data = tmp / "pop"
        print(
            f"generated {args.patients:,} people in {time.perf_counter() - tic:.0f} s"
        )
    import pyarrow.parquet as pq

    rows = {
        n: pq.read_metadata(p).num_rows
        for n in ("patients", "admissions", "prescriptions")
        for p in [data / f"{n}.parquet"]
    }
    print("input rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    results = {}
    modes = ("duckdb-memory", "pandas-memory", "duckdb-disk", "pandas-disk")
    for mode in modes:
        out = tmp / f"{mode}.parquet"
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            mode,
            "--data",
            str(data),
            "--as-of",
            args.as_of,
            "--out",
            str(out),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            print(proc.stderr[-3000:])
            return proc.returncode
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[mode]
        print(
            f"{mode:15s} cold {r['seconds']:7.2f} s  warm {r['warm_seconds']:7.2f} s  "
            f"peak RSS {r['peak_rss_gb']:.2f} GB  {r['rows']:,} rows"
        )
    ref = pq.read_table(tmp / "pandas-memory.parquet")
    for mode in ("duckdb-memory", "duckdb-disk", "pandas-disk"):
        got = pq.read_table(tmp / f"{mode}.parquet")
        same = got.equals(ref)
        if not same:
            bad = [c for c in ref.column_names if not got[c].equals(ref[c])]
            print(f"MISMATCH {mode} vs pandas in columns {bad[:10]}")
            return 1
    print(f"equal: yes (all {ref.num_columns} columns, {ref.num_rows:,} rows)")
    for source in ("memory", "disk"):
        ratio = (
            results[f"pandas-{source}"]["seconds"]
            / results[f"duckdb-{source}"]["seconds"]
        )
        print(f"speed-up of DuckDB over pandas ({source}): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
