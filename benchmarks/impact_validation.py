"""Does the impact estimator recover a known truth? Coverage, bias, power.

For each seed, a synthetic population with a case-management programme is
simulated (the demo's dates: 2019-04-01 to 2024-04-01, programme from
2022-04-01), once with no effect (``hazard_ratio=1.0``) and once with the
working programme (``0.85``). ``estimate_effect`` is run as of the extract date
and compared with ``true_effect`` on the same matched enrolled people (the
counterfactual: the same people re-run with no programme).

Printed per hazard ratio and outcome: coverage of the 95 % CI, mean bias
(estimate - truth), the share of seeds whose CI excludes zero, the mean of the
naive before/after, of the estimate and of the truth, and the mean number of
enrolled and matched people. Per-seed rows go to ``--out`` (CSV) as they come.

Usage::

    nice -n 10 python benchmarks/impact_validation.py --seeds 20 --patients 20000

Also printed: the SD of (estimate - truth) over seeds beside the mean
standard error (CI width / 3.92), which an honest interval makes about equal.

This is a benchmark, not a test: it takes about half a minute to a minute per
seed and hazard ratio at 20,000 people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import pandas as pd

from riskstrat.impact import ImpactSettings, estimate_effect, true_effect
from riskstrat.synth import Programme, make_population

START, END, PROGRAMME = dt.date(2019, 4, 1), dt.date(2024, 4, 1), dt.date(2022, 4, 1)


def one(
    seed: int,
    patients: int,
    hazard_ratio: float,
    settings,
    frailty_selection: float | None = None,
) -> list[dict]:
    tic = time.perf_counter()
    hidden: dict[str, float] = {}
    if frailty_selection is not None:
        hidden["frailty_selection"] = frailty_selection
    pop = make_population(
        patients,
        start=START,
        end=END,
        random_state=seed,
        programme=Programme(start=PROGRAMME, hazard_ratio=hazard_ratio, **hidden),
    )
    res = estimate_effect(pop.tables, as_of=END, settings=settings)
    matched = res.enrolled.loc[res.enrolled["n_controls"] > 0, "patient_id"]
    truth = true_effect(
        pop.tables, pop.counterfactual, as_of=END, settings=settings, patients=matched
    ).set_index("outcome")
    rows = []
    for outcome in truth.index:
        est = res.get("matched", outcome)
        naive = res.get("naive", outcome)
        placebo = res.get("placebo", outcome)
        t = float(truth.loc[outcome, "effect"])
        rows.append(
            {
                "seed": seed,
                "hazard_ratio": hazard_ratio,
                "outcome": outcome,
                "estimate": est["estimate"],
                "ci_low": est["ci_low"],
                "ci_high": est["ci_high"],
                "truth": t,
                "covered": est["ci_low"] <= t <= est["ci_high"],
                "excludes_zero": est["ci_high"] < 0 or est["ci_low"] > 0,
                "e_value": est["e_value"],
                "e_value_ci": est["e_value_ci"],
                "naive": naive["estimate"],
                "placebo": placebo["estimate"],
                "n_enrolled": res.n_enrolled,
                "n_matched": res.n_matched,
                "seconds": time.perf_counter() - tic,
            }
        )
    return rows


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby(["hazard_ratio", "outcome"], sort=False)
    out = pd.DataFrame(
        {
            "seeds": g.size(),
            "coverage": g["covered"].mean(),
            "mean_bias": g.apply(lambda d: (d["estimate"] - d["truth"]).mean()),
            "sd_error": g.apply(lambda d: (d["estimate"] - d["truth"]).std()),
            "mean_se": g.apply(lambda d: ((d["ci_high"] - d["ci_low"]) / 3.92).mean()),
            "excludes_below": g.apply(lambda d: (d["ci_high"] < 0).mean()),
            "excludes_above": g.apply(lambda d: (d["ci_low"] > 0).mean()),
            "ci_excludes_zero": g["excludes_zero"].mean(),
            "mean_estimate": g["estimate"].mean(),
            "mean_truth": g["truth"].mean(),
            "mean_naive": g["naive"].mean(),
            "mean_placebo": g["placebo"].mean(),
            "mean_ci_width": g.apply(lambda d: (d["ci_high"] - d["ci_low"]).mean()),
            "enrolled": g["n_enrolled"].mean(),
            "matched": g["n_matched"].mean(),
        }
    )
    return out.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--hazard-ratios", default="1.0,0.85")
    ap.add_argument("--later-enrolment", default="censor")
    ap.add_argument(
        "--pre-gap-days",
        type=int,
        default=None,
        help="days between the before window and the date (default: the settings')",
    )
    ap.add_argument(
        "--interval",
        choices=("sets", "two-sample", "rematch"),
        default=None,
        help="bootstrap resampling (default: the settings')",
    )
    ap.add_argument(
        "--frailty-selection",
        type=float,
        default=None,
        help="log-odds of enrolling per SD of hidden persistent frailty "
        "(default: the programme's, 0.5; 0 = enrolment independent of it)",
    )
    ap.add_argument(
        "--exact-on",
        default=None,
        help="comma list of sex,locality matched exactly ('none': neither; "
        "default: the settings')",
    )
    ap.add_argument("--exact-referral-days", type=int, default=None)
    ap.add_argument(
        "--referral-covariates",
        action="store_true",
        help="add male and the log referral clocks to the matching distance and "
        "the clocks to the regression adjustment",
    )
    ap.add_argument(
        "--controls",
        choices=("auto", "not_enrolled", "declined"),
        default=None,
        help="who can be a control (default: the settings', auto: the same "
        "review's decliners, as the synthetic programme writes its screenings)",
    )
    ap.add_argument("--n-controls", type=int, default=None)
    ap.add_argument("--bootstraps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("impact_validation.csv"))
    args = ap.parse_args()
    extra: dict = {}
    if args.pre_gap_days is not None:
        extra["pre_gap_days"] = args.pre_gap_days
    if args.interval is not None:
        extra["interval"] = args.interval
    if args.exact_on is not None:
        extra["exact_on"] = tuple(
            c for c in args.exact_on.split(",") if c and c != "none"
        )
        if "sex" not in extra["exact_on"]:
            extra["match_covariates"] = (*ImpactSettings().match_covariates, "male")
    if args.exact_referral_days is not None:
        extra["exact_referral_days"] = args.exact_referral_days
    if args.referral_covariates:
        clocks = ("log_days_since_eligible", "log_days_since_nominated")
        base = extra.get("match_covariates", ImpactSettings().match_covariates)
        extra["match_covariates"] = tuple(dict.fromkeys((*base, "male", *clocks)))
        extra["bias_correction"] = (*ImpactSettings().bias_correction, *clocks)
    if args.controls is not None:
        extra["controls"] = args.controls
    if args.n_controls is not None:
        extra["n_controls"] = args.n_controls
    if args.bootstraps is not None:
        extra["n_bootstraps"] = args.bootstraps
    settings = ImpactSettings(later_enrolment=args.later_enrolment, **extra)
    rows: list[dict] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for hr in (float(h) for h in args.hazard_ratios.split(",")):
            rows += one(seed, args.patients, hr, settings, args.frailty_selection)
            pd.DataFrame(rows).to_csv(args.out, index=False)
            last = rows[-2]
            print(
                f"seed {seed} hr {hr}: admissions {last['estimate']:+.3f} "
                f"({last['ci_low']:+.3f}, {last['ci_high']:+.3f}) truth "
                f"{last['truth']:+.3f} naive {last['naive']:+.3f} "
                f"[{last['seconds']:.0f} s]",
                flush=True,
            )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(summarise(pd.DataFrame(rows)).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
