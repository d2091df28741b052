"""Print the synthetic population's base rates against their published targets.

Usage::

    python benchmarks/calibrate_synth.py                   # 40,000 people, seed 1
    python benchmarks/calibrate_synth.py --seeds 1 2 --set death_in_hospital_hr=12

The population and the measure are those of ``tests/synth/test_simulate.py``
(``yearly`` fixture: five shown years from 2019-04-01, pooled). ``--set NAME=VALUE``
overrides a :class:`riskstrat.synth.SynthParams` default, so a candidate re-fit
can be compared with the defaults before it is written into ``_params.py``.
The published figures and their sources are in ``docs/synthetic-population.md``
("Base rates against published figures"); decision 0021 records the fit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

from riskstrat.synth import SynthParams, make_population

# (label, band, measure, published, low, high); low/high is the fit's target band.
TARGETS = (
    ("deaths per 1,000, 65-74", "65-75", "deaths", 15.2, 13.4, 17.0),
    ("deaths per 1,000, 75-84", "75-85", "deaths", 43.1, 37.9, 48.3),
    ("deaths per 1,000, 85+", "85+", "deaths", 146.2, 128.7, 163.7),
    ("emergency admissions per 1,000, 65+", "65+", "admissions", 248, 218, 278),
    ("emergency admissions per 1,000, 65-74", "65-75", "admissions", None, None, None),
    ("emergency admissions per 1,000, 75-84", "75-85", "admissions", None, None, None),
    ("emergency admissions per 1,000, 85+", "85+", "admissions", None, None, None),
    ("emergency admissions per 1,000, 0-17", "0-18", "admissions", None, None, None),
    ("emergency admissions per 1,000, 18-64", "18-65", "admissions", None, None, None),
    ("emergency admissions per 1,000, all ages", "all", "admissions", 109, 95, 123),
    ("share of deaths in hospital, all", "all", "hospital", 0.469, 0.40, 0.52),
    ("share of deaths in hospital, 65-74", "65-75", "hospital", None, None, None),
    ("share of deaths in hospital, 75-84", "75-85", "hospital", None, None, None),
    ("share of deaths in hospital, 85+", "85+", "hospital", None, None, None),
    ("share of deaths in hospital, 75+", "75+", "hospital", 0.456, None, None),
    ("share of deaths in a care home, all", "all", "in_home", 0.218, None, None),
    ("emergency spells per admitted adult", "adult", "spells", 1.5, 1.25, 1.75),
    ("people 65+ in care homes", "65+", "care_home", 0.032, 0.024, 0.042),
    ("people 85+ in care homes", "85+", "care_home", 0.14, 0.095, 0.185),
)


def _measure(g, what: str) -> float:
    if what == "deaths":
        return 1000 * g.deaths / g.people
    if what == "admissions":
        return 1000 * g.admissions / g.people
    if what == "in_home":
        return g.care_home_deaths / g.deaths
    if what == "hospital":
        return g.deaths_in_hospital / g.deaths
    if what == "spells":
        return g.admissions / g.admitted
    return g.care_home / g.people


def _care_home_deaths(pop) -> float:
    """Deaths in the shown years of care-home residents outside hospital."""
    t = pop.tables
    pat = t.patients.to_pandas()
    dead = pat[pat.death_date.notna()].set_index("patient_id").death_date
    res = t.residences.to_pandas().merge(
        dead.rename("death"), left_on="patient_id", right_index=True
    )
    home = res[
        (res.residence_type != "private")
        & (res.start_date <= res.death)
        & (res.end_date.isna() | (res.end_date >= res.death))
    ]
    adm = t.admissions.to_pandas().merge(
        dead.rename("death"), left_on="patient_id", right_index=True
    )
    open_ = (adm.admission_date <= adm.death) & (
        adm.discharge_date.isna() | (adm.discharge_date >= adm.death)
    )
    hosp = set(adm[open_].patient_id)
    return float(len(set(home.patient_id) - hosp))


def _parse_set(items: list[str]) -> dict[str, float]:
    names = {f.name: f.type for f in dataclasses.fields(SynthParams)}
    out: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in names:
            raise SystemExit(f"--set: SynthParams has no parameter {name!r}")
        out[name] = int(value) if names[name] in ("int", int) else float(value)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=40_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _support.realism import yearly_rates

    params = SynthParams(**_parse_set(args.set))
    changed = {
        f.name: getattr(params, f.name)
        for f in dataclasses.fields(SynthParams)
        if getattr(params, f.name) != f.default
    }
    print(f"{args.patients:,} people, five shown years pooled; overrides: {changed}")
    starts = [dt.date(2019 + i, 4, 1) for i in range(5)]
    columns = []
    for seed in args.seeds:
        t0 = time.process_time()
        pop = make_population(args.patients, random_state=seed, params=params)
        yearly = yearly_rates(pop, starts)
        pooled = yearly.groupby("band").sum(numeric_only=True)
        old = yearly[yearly.band.isin(["75-85", "85+"])]
        pooled.loc["75+"] = old.sum(numeric_only=True)
        pooled.loc["all", "care_home_deaths"] = _care_home_deaths(pop)
        columns.append(pooled)
        print(f"seed {seed}: {time.process_time() - t0:.0f} s CPU")
    head = "".join(f"  seed {s:>3}" for s in args.seeds)
    print(f"{'figure':<42}{'published':>10}{'target':>16}{head}")
    for label, band, what, published, low, high in TARGETS:
        values = [_measure(c.loc[band], what) for c in columns]
        pct = what in ("hospital", "care_home", "in_home")
        fmt = "{:10.1%}" if pct else "{:10.2f}" if what == "spells" else "{:10.1f}"
        pub = "" if published is None else fmt.format(published)
        target = (
            ""
            if low is None
            else f"{fmt.format(low).strip()}-{fmt.format(high).strip()}"
        )
        flags = []
        for v in values:
            off = low is not None and not low <= v <= high
            flags.append(fmt.format(v) + ("*" if off else " "))
        print(f"{label:<42}{pub:>10}{target:>16}" + "".join(flags))
    old85 = ", ".join(
        f"{c.loc['85+'].care_home / c.loc['65+'].care_home:.1%}" for c in columns
    )
    print(f"care-home residents 65+ who are 85+: {old85} (Census 2011: 59.2%)")
    adult = [c.loc["adult"] for c in columns]
    print("(* outside the target band)")
    print(
        "adult admitted share: "
        + ", ".join(f"{g.admitted / g.people:.3%}" for g in adult)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
