"""Where does the impact estimator's bias come from? An oracle decomposition.

With no programme effect (hazard ratio 1.0) every matched estimate is pure
error. This script re-runs the estimator on the same synthetic populations with
*oracle* information added to the matching and the regression adjustment —
each person's hidden persistent frailty ``u`` and their current frailty ``f``
on the enrolment date, which no record shows — and with other changes, and
prints the paired change in the error against the baseline. Oracle columns
never enter the product: they are added here by wrapping the estimator's
private matching frame.

The simulation is re-run with the generator's own step function (the same
seed, the same random streams: identical tables) so that ``u`` and weekly
snapshots of ``f`` can be read; ``riskstrat.synth`` is not changed.

Variants (each against ``baseline``, the estimator of issue 16's second pass,
or ``now``, the current defaults):

- ``+u``, ``+f``, ``+u+f``: oracle columns in the matching distance (3x
  weight) and in the regression adjustment;
- ``recency strata``: exact strata on how recently the person left hospital
  (in hospital, <=30, <=91, <=365 days, longer);
- ``survivors``: the raw difference in differences (no adjustment) with only
  people alive and followed for the whole year after, against ``raw``.

Usage::

    nice -n 5 python benchmarks/impact_diagnosis.py --seeds 8 --patients 20000

About a minute and a half per seed at 20,000 people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import riskstrat.impact._estimate as est
import riskstrat.synth._population as synth_population
import riskstrat.synth._simulate as sim
from riskstrat.impact import ImpactSettings, true_effect
from riskstrat.impact._person_time import window_outcomes
from riskstrat.synth import Programme, make_population

START, END, PROGRAMME = dt.date(2019, 4, 1), dt.date(2024, 4, 1), dt.date(2022, 4, 1)
ORACLE: dict = {}

#: The estimator of issue 16's second pass (before this decomposition).
BASELINE = ImpactSettings(
    prognostic_target="any_admission",
    match_covariates=("em_admissions_3m", "days_since_last_em_admission"),
    interval="two-sample",
    n_bootstraps=200,
)


def _run_with_oracle(n, days, params, random_state, programme=None, **kw):
    """``riskstrat.synth._simulate.run`` that keeps ``u`` and weekly ``f``."""
    rngs = sim.streams(random_state)
    people = sim.init_people(n, days, params, rngs["init"])
    events = sim.Events()
    weekly = {}
    for t in range(-int(params.warmup_days), days):
        if t == 0:
            people.residence0 = people.residence.copy()
        if programme is not None and t >= programme.start_day - 7 and t % 7 == 0:
            weekly[t] = people.frailty.copy()
        sim.step(
            people,
            t,
            params,
            rngs["daily"],
            random_state,
            rngs["programme"],
            programme,
            events if t >= 0 else None,
            rng_acute=rngs["acute"],
        )
    if programme is not None:
        ORACLE.update(u=people.u.copy(), sd=params.frailty_persistent_sd, f=weekly)
    return people, events, rngs


_frame = est._frame


def _oracle_frame(features, extra=()):
    f = _frame(features, extra)
    if not features.num_rows:
        f["oracle_u"], f["oracle_f"] = [], []
        return f
    day = features["as_of"][0].as_py()
    idx = np.array([int(p[1:]) - 1 for p in f["patient_id"]])
    t = (day - START).days
    f["oracle_u"] = ORACLE["u"][idx] / ORACLE["sd"] * 3
    f["oracle_f"] = ORACLE["f"][t - t % 7][idx] * 3
    return f


_build, _fit = est.build_features, est.fit_prognostic
_CACHE: dict = {}


def _cached_build(opened, *, as_of, spec):
    key = ("features", as_of)
    if key not in _CACHE:
        _CACHE[key] = _build(opened, as_of=as_of, spec=spec)
    return _CACHE[key]


def _cached_fit(opened, **kw):
    key = ("score", kw.get("target"))
    if key not in _CACHE:
        _CACHE[key] = _fit(opened, **kw)
    return _CACHE[key]


def _with(settings: ImpactSettings, **changes) -> ImpactSettings:
    return ImpactSettings(**{**settings.__dict__, **changes})


def _oracle(settings: ImpactSettings, cols: tuple[str, ...]) -> ImpactSettings:
    return _with(
        settings,
        match_covariates=(*settings.match_covariates, *cols),
        bias_correction=(*settings.bias_correction, *cols),
    )


def _raw(pop, res, *, survivors: bool) -> dict[str, float]:
    """Raw DiD of the matched sets (no adjustment), optionally survivors only."""
    ms = res.matched_sets
    people = pd.concat(
        [
            ms[["patient_id", "enrol_date"]]
            .drop_duplicates()
            .assign(person=lambda d: d["patient_id"], treated=True, weight=1.0),
            ms.assign(person=ms["control_id"], treated=False)[
                ["patient_id", "enrol_date", "person", "treated", "weight"]
            ],
        ],
        ignore_index=True,
    )
    first = est.first_enrolments(pop.tables)
    later = pd.to_datetime(people["person"].map(first))
    censor = later.where(later > pd.to_datetime(people["enrol_date"]))
    day = pd.to_datetime(people["enrol_date"])
    for part, (a, b) in {"pre": (-365, 0), "post": (0, 365)}.items():
        w = pa.table(
            {
                "row": pa.array(np.arange(len(people)), pa.int64()),
                "patient_id": pa.array(people["person"].astype(str)),
                "start": pa.array((day + pd.Timedelta(days=a)).dt.date, pa.date32()),
                "end": pa.array((day + pd.Timedelta(days=b)).dt.date, pa.date32()),
                "censor": pa.array(
                    [None if pd.isna(x) else x.date() for x in censor], pa.date32()
                ),
            }
        )
        out = window_outcomes(
            w, pop.tables.patients, pop.tables.admissions, data_end=END
        ).to_pandas()
        for c in ("person_days", "em_admissions", "em_bed_days"):
            people[f"{c}_{part}"] = out[c].to_numpy()
    if survivors:
        people = people[people["person_days_post"] >= 365]
        kept = set(
            zip(
                people.loc[people["treated"], "patient_id"],
                people.loc[people["treated"], "enrol_date"],
                strict=True,
            )
        )
        people = people[
            [
                k in kept
                for k in zip(people["patient_id"], people["enrol_date"], strict=True)
            ]
        ]
    effect = {}
    for outcome, col in (
        ("emergency_admissions", "em_admissions"),
        ("emergency_bed_days", "em_bed_days"),
    ):
        rate = {}
        for treated in (True, False):
            g = people[people["treated"] == treated]
            for part in ("pre", "post"):
                rate[treated, part] = (
                    np.sum(g[f"{col}_{part}"] * g["weight"])
                    / np.sum(g[f"person_days_{part}"] * g["weight"])
                    * 365.25
                )
        effect[outcome] = (rate[True, "post"] - rate[True, "pre"]) - (
            rate[False, "post"] - rate[False, "pre"]
        )
    return effect


def one(seed: int, patients: int) -> list[dict]:
    _CACHE.clear()
    pop = make_population(
        patients,
        start=START,
        end=END,
        random_state=seed,
        programme=Programme(start=PROGRAMME, hazard_ratio=1.0),
    )
    now = ImpactSettings(n_bootstraps=0)
    variants = {
        "baseline": BASELINE,
        "baseline +u": _oracle(BASELINE, ("oracle_u",)),
        "baseline +f": _oracle(BASELINE, ("oracle_f",)),
        "baseline +u+f": _oracle(BASELINE, ("oracle_u", "oracle_f")),
        "baseline, recency strata": _with(BASELINE, exact_recency_days=(30, 91, 365)),
        "now": now,
        "now +u+f": _oracle(now, ("oracle_u", "oracle_f")),
    }
    rows = []
    for name, settings in variants.items():
        res = est.estimate_effect(
            pop.tables, as_of=END, settings=_with(settings, n_bootstraps=0)
        )
        matched = res.enrolled.loc[res.enrolled["n_controls"] > 0, "patient_id"]
        truth = true_effect(
            pop.tables, pop.counterfactual, as_of=END, patients=matched
        ).set_index("outcome")
        for outcome in truth.index:
            rows.append(
                {
                    "seed": seed,
                    "variant": name,
                    "outcome": outcome,
                    "error": res.get("matched", outcome)["estimate"]
                    - truth.loc[outcome, "effect"],
                    "matched": res.n_matched,
                }
            )
        if name == "baseline":
            for label, surv in (("raw", False), ("raw, survivors", True)):
                for outcome, e in _raw(pop, res, survivors=surv).items():
                    rows.append(
                        {
                            "seed": seed,
                            "variant": label,
                            "outcome": outcome,
                            "error": e,
                            "matched": res.n_matched,
                        }
                    )
    return rows


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    wide = frame.pivot_table(
        index=["seed", "outcome"], columns="variant", values="error"
    )
    pairs = [
        ("baseline +u", "baseline"),
        ("baseline +f", "baseline"),
        ("baseline +u+f", "baseline"),
        ("baseline, recency strata", "baseline"),
        ("raw, survivors", "raw"),
        ("now", "baseline"),
        ("now +u+f", "now"),
    ]
    out = []
    for outcome, g in wide.groupby(level="outcome"):
        for a, b in [(v, None) for v in ("baseline", "raw", "now")] + pairs:
            d = g[a] if b is None else g[a] - g[b]
            out.append(
                {
                    "outcome": outcome,
                    "comparison": a if b is None else f"{a} - {b}",
                    "mean": d.mean(),
                    "se": d.std() / np.sqrt(len(d)),
                    "seeds": len(d),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=Path("impact_diagnosis.csv"))
    args = ap.parse_args()
    synth_population.run = _run_with_oracle
    est._frame = _oracle_frame
    est.build_features = _cached_build
    est.fit_prognostic = _cached_fit
    rows: list[dict] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        tic = time.perf_counter()
        rows += one(seed, args.patients)
        pd.DataFrame(rows).to_csv(args.out, index=False)
        print(f"seed {seed} [{time.perf_counter() - tic:.0f} s]", flush=True)
    with pd.option_context("display.width", 200):
        print(summarise(pd.DataFrame(rows)).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
