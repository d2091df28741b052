"""Benchmark the synthetic generator: time and peak memory, and its realism figures.

Usage::

    python benchmarks/synth.py --patients 100000 --write /tmp/synth100k
    python benchmarks/synth.py --patients 1000000 --no-realism

The baseline for the generator is its own pandas-free, vectorised numpy loop;
there is no pandas implementation to compare with (the issue asks for time and
peak RSS). Peak RSS is the process high-water mark (``resource.getrusage``),
measured in a fresh process per size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

from riskstrat.synth import make_population


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-realism", action="store_true")
    ap.add_argument("--write", type=Path, default=None, help="also write Parquet here")
    args = ap.parse_args(argv)
    start = dt.date(2019, 4, 1)
    end = dt.date(start.year + args.years, 4, 1)
    tic = time.perf_counter()
    pop = make_population(args.patients, start=start, end=end, random_state=args.seed)
    gen_s = time.perf_counter() - tic
    rows = {name: t.num_rows for name, t in pop.tables.items()}
    print(f"patients simulated: {args.patients:,} over {args.years} years")
    print(f"generate: {gen_s:.1f} s, peak RSS {_peak_rss_gb():.2f} GB")
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    out = args.write or Path(tempfile.mkdtemp(prefix="riskstrat-synth-"))
    tic = time.perf_counter()
    pop.write(out)
    size = sum(f.stat().st_size for f in out.glob("*.parquet")) / 1024**2
    print(f"write parquet: {time.perf_counter() - tic:.1f} s, {size:.0f} MB in {out}")
    if not args.no_realism:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from _support.realism import realism

        tic = time.perf_counter()
        figures = realism(pop, dt.date(start.year + 3, 4, 1))
        print(f"realism (incl. true risk): {time.perf_counter() - tic:.1f} s")
        for k, v in figures.items():
            print(f"  {k:24s} {v:.3f}")
    print(f"peak RSS overall: {_peak_rss_gb():.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
