"""Benchmark ``riskstrat.report.evaluate``: wall time at 100k and 1M people.

Usage::

    python benchmarks/evaluate.py                      # 100k and 1M, 200 bootstraps
    python benchmarks/evaluate.py --sizes 1000000 --bootstraps 500

Scores and outcomes are simulated (calibrated, prevalence about 5 %), with five
grouping columns like the real ones (age band, sex, deprivation decile, 12
localities, care home) and next-year bed days. Each size is timed without
bootstrap (point estimates only), with the bootstrap, and with the bootstrap and
the groups. Target: well under a minute at 1M with 200 bootstraps on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from riskstrat.report import evaluate


def simulate(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-rng.normal(-3.4, 1.1, n)))
    y = (rng.random(n) < risk).astype(np.int8)
    bed_days = np.where(y == 1, rng.geometric(0.15, n) - 1, 0)
    groups = pd.DataFrame(
        {
            "age_band": rng.choice(["18-44", "45-64", "65-74", "75-84", "85+"], n),
            "sex": rng.choice(["female", "male"], n),
            "deprivation_decile": rng.integers(1, 11, n),
            "locality": rng.choice([f"locality-{i:02d}" for i in range(12)], n),
            "care_home": rng.random(n) < 0.02,
        }
    )
    return y, np.round(risk, 6), groups, bed_days


def _time(fn) -> float:
    tic = time.perf_counter()
    fn()
    return time.perf_counter() - tic


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--bootstraps", type=int, default=200)
    args = ap.parse_args(argv)
    b = args.bootstraps
    head = f"{b} bootstraps"
    print(f"{'people':>10} {'no bootstrap':>13} {head:>15} {'+ 5 groups':>11}")
    for n in args.sizes:
        y, p, groups, bed = simulate(n)
        t0 = _time(lambda: evaluate(y, p, bed_days=bed, n_bootstraps=0))  # noqa: B023
        t1 = _time(lambda: evaluate(y, p, bed_days=bed, n_bootstraps=b))  # noqa: B023
        t2 = _time(
            lambda: evaluate(y, p, groups=groups, bed_days=bed, n_bootstraps=b)  # noqa: B023
        )
        print(f"{n:>10,} {t0:>12.1f}s {t1:>14.1f}s {t2:>10.1f}s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
