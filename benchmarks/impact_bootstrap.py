"""What the re-matching bootstrap costs, with the ridge adjustment and without.

Builds a synthetic population with a programme (the demo's dates), runs
``estimate_effect`` once to get the bootstrap's pool (every enrolled person's
ranked candidates), then times 1,000 replicates of
``riskstrat.impact._rematch.rematch_bootstrap`` with the regression adjustment
fitted by the product's weighted ridge (penalty by exact leave-one-out error,
decision 0022), by plain weighted least squares (the baseline: what it replaced)
and with no adjustment, in the same process, alternating, and prints the times
and ratios.

Usage::

    nice -n 10 python benchmarks/impact_bootstrap.py --patients 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

import riskstrat.impact._estimate as estimate_module
import riskstrat.impact._rematch as rematch_module
from riskstrat.impact import ImpactSettings, estimate_effect
from riskstrat.synth import Programme, make_population

START, END, PROGRAMME = dt.date(2019, 4, 1), dt.date(2024, 4, 1), dt.date(2022, 4, 1)


def least_squares(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The baseline: weighted least squares, slopes only."""
    if (w > 0).sum() <= x.shape[1] + 1:
        return np.zeros(x.shape[1])
    z = np.column_stack([np.ones(len(y)), x]) * np.sqrt(w)[:, None]
    return np.linalg.lstsq(z, y * np.sqrt(w), rcond=None)[0][1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    pop = make_population(
        args.patients,
        start=START,
        end=END,
        random_state=args.seed,
        programme=Programme(start=PROGRAMME),
    )
    pools = []
    real = estimate_module.rematch_bootstrap

    def keep(pool, **kw):
        pools.append(pool)
        return real(pool, **kw)

    estimate_module.rematch_bootstrap = keep
    estimate_effect(pop.tables, as_of=END, settings=ImpactSettings(n_bootstraps=2))
    estimate_module.rematch_bootstrap = real
    pool = pools[0]
    print(
        f"{args.patients:,} people: {pool.enrolled.shape[0]} matched enrolled, "
        f"{pool.pairs.shape[0]} candidate pairs of {pool.n_people} control people, "
        f"{pool.x_pairs.shape[1]} covariates"
    )
    ridge = rematch_module.fit_adjustment
    times: dict[str, list[float]] = {"ridge": [], "least squares": [], "none": []}
    for _ in range(args.repeats):
        for name in times:
            rematch_module.fit_adjustment = (
                least_squares if name == "least squares" else ridge
            )
            tic = time.perf_counter()
            rematch_module.rematch_bootstrap(
                pool,
                k=5,
                n_bootstraps=args.replicates,
                random_state=0,
                adjust=name != "none",
            )
            times[name].append(time.perf_counter() - tic)
    rematch_module.fit_adjustment = ridge
    best = {k: min(v) for k, v in times.items()}
    for name, t in best.items():
        print(
            f"{name:>14}: {args.replicates:,} replicates {t:.2f} s "
            f"(best of {args.repeats}; {t / best['least squares']:.2f} x least squares)"
        )


if __name__ == "__main__":
    main()
