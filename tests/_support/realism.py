"""Realism figures of a synthetic population (shared by tests and benchmarks)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def _counted(patients: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    p = patients
    ok = (p.death_date.isna() | (p.death_date >= as_of)) & (
        p.registration_date.isna() | (p.registration_date <= as_of)
    )
    ok &= p.deregistration_date.isna() | (p.deregistration_date >= as_of)
    out = p[ok].copy()
    out["age"] = [(as_of - b).days / 365.25 for b in out.birth_date]
    return out


def realism(pop, as_of: dt.date, *, n_paths: int = 16, keep_cohort: bool = False):
    """Realism figures (floats) as of ``as_of``; with ``keep_cohort``, also
    ``"cohort"``: each counted person's ``true_risk`` and ``y`` (an emergency
    admission in the year)."""
    t = pop.tables
    pat = t.patients.to_pandas()
    adm = t.admissions.to_pandas()
    em = adm[adm.emergency.fillna(False)].copy()
    horizon = as_of + dt.timedelta(days=365)
    before = as_of - dt.timedelta(days=365)
    cohort = _counted(pat, as_of).set_index("patient_id")
    nxt = em[(em.admission_date >= as_of) & (em.admission_date < horizon)].copy()
    nxt_end = nxt.discharge_date.fillna(pop.truth.end)
    nxt["bed_days"] = [
        (d - a).days for a, d in zip(nxt.admission_date, nxt_end, strict=True)
    ]
    prv = em[(em.admission_date >= before) & (em.admission_date < as_of)]
    cohort["y"] = cohort.index.isin(nxt.patient_id).astype(int)
    cohort["n_next"] = nxt.groupby("patient_id").size().reindex(cohort.index).fillna(0)
    cohort["n_prev"] = prv.groupby("patient_id").size().reindex(cohort.index).fillna(0)
    cohort["bed_days"] = (
        nxt.groupby("patient_id").bed_days.sum().reindex(cohort.index).fillna(0)
    )
    truth = pop.truth.true_risk(as_of, n_paths=n_paths).to_pandas()
    cohort = cohort.join(truth.set_index("patient_id"), how="inner")
    adults = cohort[cohort.age >= 18]
    old = cohort[cohort.age >= 65]
    res = t.residences.to_pandas()
    live = res[
        (res.start_date < as_of) & (res.end_date.isna() | (res.end_date >= as_of))
    ]
    in_home = old.index.isin(live[live.residence_type != "private"].patient_id)
    top = cohort.true_risk >= cohort.true_risk.quantile(0.95)
    rtm = old[old.n_prev >= 2]
    hours = [x.hour for x in em.admission_time.dropna()]
    ooh = np.mean([(h >= 17) or (h < 8) for h in hours])
    out = {
        "n_cohort": float(len(cohort)),
        "adult_risk": adults.y.mean(),
        "risk_85plus": cohort[cohort.age >= 85].y.mean(),
        "risk_18_64": cohort[(cohort.age >= 18) & (cohort.age < 65)].y.mean(),
        "out_of_hours_share": float(ooh),
        "care_home_share_65plus": float(in_home.mean()),
        "top5_bed_day_share": cohort.bed_days[top].sum() / cohort.bed_days.sum(),
        "rtm_n": float(len(rtm)),
        "rtm_change": rtm.n_next.mean() / rtm.n_prev.mean() - 1,
        "oracle_auroc": roc_auc_score(cohort.y, cohort.true_risk),
        "mean_true_risk": cohort.true_risk.mean(),
        "observed_rate": cohort.y.mean(),
    }
    if keep_cohort:
        out["cohort"] = cohort[["true_risk", "y"]]
    return out


AGE_BANDS = ((0, 18), (18, 65), (65, 75), (75, 85), (85, 200))


def _band(age: pd.Series) -> pd.Series:
    labels = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in AGE_BANDS]
    edges = [lo for lo, _ in AGE_BANDS] + [1000]
    return pd.cut(age, edges, right=False, labels=labels).astype(str)


def yearly_rates(pop, starts: list[dt.date]) -> pd.DataFrame:
    """Base rates of a synthetic population, one row per year and age band.

    For each year ``[s, s + 365)`` in ``starts``, the people counted on ``s``
    (alive, registered): people, emergency admissions, people with one or more,
    deaths in the year and deaths in hospital (an emergency or elective spell
    open on the death date), and people in a care home on ``s``. Band ``all``
    is added; ``adult`` is 18+.
    """
    t = pop.tables
    pat = t.patients.to_pandas()
    adm = t.admissions.to_pandas()
    res = t.residences.to_pandas()
    em = adm[adm.emergency.fillna(False)]
    rows = []
    for s in starts:
        e = s + dt.timedelta(days=365)
        c = _counted(pat, s).set_index("patient_id")
        n_em = em[(em.admission_date >= s) & (em.admission_date < e)]
        c["n_em"] = n_em.groupby("patient_id").size().reindex(c.index).fillna(0)
        c["died"] = c.death_date.notna() & (c.death_date < e)
        dead = c[c.died]
        spells = adm.merge(dead.death_date, left_on="patient_id", right_index=True)
        open_ = (spells.admission_date <= spells.death_date) & (
            spells.discharge_date.isna() | (spells.discharge_date >= spells.death_date)
        )
        c["died_in_hospital"] = c.index.isin(spells[open_].patient_id)
        live = res[
            (res.start_date <= s)
            & (res.end_date.isna() | (res.end_date > s))
            & (res.residence_type != "private")
        ]
        c["care_home"] = c.index.isin(live.patient_id)
        c["band"] = _band(c.age)
        groups = [(b, c[c.band == b]) for b in sorted(c.band.unique())]
        groups += [("adult", c[c.age >= 18]), ("65+", c[c.age >= 65]), ("all", c)]
        for band, g in groups:
            rows.append(
                {
                    "year": s.year,
                    "band": band,
                    "people": len(g),
                    "admissions": g.n_em.sum(),
                    "admitted": (g.n_em > 0).sum(),
                    "deaths": g.died.sum(),
                    "deaths_in_hospital": g.died_in_hospital.sum(),
                    "care_home": g.care_home.sum(),
                }
            )
    return pd.DataFrame(rows)
