"""A straightforward pandas groupby implementation of the features (the baseline).

Same definitions as ``riskstrat.features`` (see docs/features.md), written the way
an analyst would in pandas, to measure the SQL engines against and to check that
both give the same table.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from riskstrat.features import CHARLSON, ELIXHAUSER, FeatureSpec, feature_schema
from riskstrat.features._comorbidity import code_map
from riskstrat.features._sql import BNF_CHAPTERS, FRAILTY, RULES

_HIER = {
    "diabetes_without_complication": "diabetes_with_complication",
    "mild_liver_disease": "moderate_or_severe_liver_disease",
    "any_malignancy": "metastatic_solid_tumour",
}


def _dates(df: pd.DataFrame, cols) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_datetime(df[c])
    return df


def pandas_features(
    tables, as_of: dt.date, spec: FeatureSpec | None = None
) -> pd.DataFrame:
    spec = spec or FeatureSpec()
    a = pd.Timestamp(as_of)
    p = _dates(
        tables.patients.to_pandas(),
        ["birth_date", "death_date", "registration_date", "deregistration_date"],
    )
    keep = (p.birth_date <= a) & (p.death_date.isna() | (p.death_date >= a))
    keep &= p.registration_date.isna() | (p.registration_date <= a)
    keep &= p.deregistration_date.isna() | (p.deregistration_date >= a)
    c = p[keep].copy()
    before = (c.birth_date.dt.month > a.month) | (
        (c.birth_date.dt.month == a.month) & (c.birth_date.dt.day > a.day)
    )
    c["age"] = a.year - c.birth_date.dt.year - before.astype(int)
    out = c[
        ["patient_id", "age", "sex", "locality", "practice_id", "deprivation_decile"]
    ]
    out = out.set_index("patient_id")

    adm = _dates(tables.admissions.to_pandas(), ["admission_date", "discharge_date"])
    adm = adm[adm.admission_date < a]
    em = adm.emergency.eq(True)
    stop = adm.discharge_date.fillna(a).clip(upper=a)
    adm["bed"] = (stop - adm.admission_date).dt.days
    g = {}
    for days, w in zip(spec.windows_days, spec.window_names, strict=True):
        m = em & (adm.admission_date >= a - pd.Timedelta(days=days))
        g[f"em_admissions_{w}"] = adm[m].groupby("patient_id").size()
        g[f"em_bed_days_{w}"] = adm[m].groupby("patient_id").bed.sum()
    y1 = adm.admission_date >= a - pd.Timedelta(days=365)
    y2 = adm.admission_date >= a - pd.Timedelta(days=730)
    g["admissions_12m"] = adm[y1].groupby("patient_id").size()
    g["elective_admissions_12m"] = (
        adm[y1 & adm.emergency.eq(False)].groupby("patient_id").size()
    )
    g["unknown_urgency_admissions_12m"] = (
        adm[y1 & adm.emergency.isna()].groupby("patient_id").size()
    )
    counts = pd.DataFrame(g).reindex(out.index).fillna(0).astype("int64")
    out = out.join(counts)
    done = adm[adm.discharge_date < a].groupby("patient_id").discharge_date.max()
    out["days_since_last_discharge"] = (a - done.reindex(out.index)).dt.days
    last_em = adm[em].groupby("patient_id").admission_date.max()
    out["days_since_last_em_admission"] = (a - last_em.reindex(out.index)).dt.days
    open_ = adm.discharge_date.isna() | (adm.discharge_date >= a)
    out["in_hospital"] = out.index.isin(adm[open_].patient_id)
    hour = pd.Series(
        [None if t is None else t.hour for t in adm.admission_time],
        index=adm.index,
        dtype="float64",
    )
    timed = em & y2 & hour.notna()
    ooh = timed & ((hour >= 17) | (hour < 8))
    n_t = adm[timed].groupby("patient_id").size().reindex(out.index)
    n_o = adm[ooh].groupby("patient_id").size().reindex(out.index).fillna(0)
    out["em_out_of_hours_share_24m"] = n_o / n_t

    # diagnoses, long
    raw = tables.admissions.to_pandas()
    raw["admission_date"] = pd.to_datetime(raw.admission_date)
    sec = raw[["patient_id", "admission_date", "secondary_diagnoses"]].explode(
        "secondary_diagnoses"
    )
    diag = pd.concat(
        [
            raw[["patient_id", "admission_date", "primary_diagnosis"]].rename(
                columns={"primary_diagnosis": "code"}
            ),
            sec.rename(columns={"secondary_diagnoses": "code"}),
        ]
    ).dropna(subset=["code"])
    diag = diag[diag.admission_date < a]
    diag["code3"] = diag.code.str[:3]
    diag["code4"] = diag.code.str[:4]
    fr = diag[diag.admission_date >= a - pd.Timedelta(days=spec.frailty_days)]
    flags = {
        "dehydration": fr.code3 == "E86",
        "fall": (fr.code3 >= "W00") & (fr.code3 <= "W19"),
        "constipation": fr.code4 == "K590",
        "nausea_vomiting": fr.code3 == "R11",
        "urinary_tract_infection": fr.code4 == "N390",
    }
    for k in FRAILTY:
        out[f"frail_{k}_12m"] = out.index.isin(fr[flags[k]].patient_id)
    out["frail_nausea_vomiting_12m"] &= out.age > spec.nausea_over_age
    out["frail_any_12m"] = out[[f"frail_{k}_12m" for k in FRAILTY]].any(axis=1)

    cm = code_map().to_pandas()
    cd = diag[diag.admission_date >= a - pd.Timedelta(days=spec.comorbidity_days)]
    hits = pd.concat(
        [
            cd.merge(cm[cm.prefix_len == 3], left_on="code3", right_on="prefix"),
            cd.merge(cm[cm.prefix_len == 4], left_on="code4", right_on="prefix"),
        ]
    )[["patient_id", "system", "condition"]].drop_duplicates()
    for system, conds, prefix in (
        ("charlson", CHARLSON, "cci"),
        ("elixhauser", ELIXHAUSER, "elix"),
    ):
        h = hits[hits.system == system]
        for cond in conds:
            out[f"{prefix}_{cond}"] = out.index.isin(h[h.condition == cond].patient_id)
    score = pd.Series(0, index=out.index)
    for cond, w in CHARLSON.items():
        has = out[f"cci_{cond}"]
        if cond in _HIER:
            has = has & ~out[f"cci_{_HIER[cond]}"]
        score += w * has
    out["cci_score"] = score
    out["elix_count"] = out[[f"elix_{c}" for c in ELIXHAUSER]].sum(axis=1)

    rx = tables.prescriptions.to_pandas()
    rx["issue_date"] = pd.to_datetime(rx.issue_date)
    rx = rx[
        (rx.issue_date >= a - pd.Timedelta(days=spec.drug_days)) & (rx.issue_date < a)
    ]
    rx["chapter"] = np.where(rx.drug_code_system == "bnf", rx.drug_code.str[:2], None)
    out["drugs_90d"] = (
        rx.groupby("patient_id")
        .drug_code.nunique()
        .reindex(out.index)
        .fillna(0)
        .astype("int64")
    )
    out["prescription_items_90d"] = (
        rx.groupby("patient_id").size().reindex(out.index).fillna(0).astype("int64")
    )
    out["bnf_chapters_90d"] = (
        rx.groupby("patient_id")
        .chapter.nunique()
        .reindex(out.index)
        .fillna(0)
        .astype("int64")
    )
    for ch in BNF_CHAPTERS:
        sub = rx[rx.chapter == ch]
        out[f"bnf_ch{ch}_90d"] = (
            sub.groupby("patient_id")
            .drug_code.nunique()
            .reindex(out.index)
            .fillna(0)
            .astype("int64")
        )

    res = _dates(tables.residences.to_pandas(), ["start_date", "end_date"])
    res = res[(res.start_date < a) & (res.end_date.isna() | (res.end_date >= a))]
    res = (
        res.sort_values(["patient_id", "start_date", "residence_type"])
        .groupby("patient_id")
        .tail(1)
    )
    out["residence_type"] = (
        res.set_index("patient_id").residence_type.reindex(out.index).fillna("private")
    )
    out["care_home"] = out.residence_type.isin(["residential_home", "nursing_home"])
    nom = _dates(tables.nominations.to_pandas(), ["date"])
    nom = nom[nom.date < a]
    recent = nom[nom.date >= a - pd.Timedelta(days=spec.nomination_days)]
    out["nominated_12m"] = out.index.isin(recent.patient_id)
    out["nominated_ever"] = out.index.isin(nom.patient_id)

    old = out.age >= spec.rule_min_age
    rules = {
        "rule_frail_admission": old & out.frail_any_12m,
        "rule_two_admissions": old & (out.admissions_12m >= 2),
        "rule_care_home": old & out.care_home,
        "rule_polypharmacy": old & (out.drugs_90d >= spec.polypharmacy_threshold),
        "rule_nomination": old & out.nominated_12m,
    }
    for name in RULES:
        out[name] = rules[name]
    out["essex_eligible"] = out[list(RULES)].any(axis=1)
    prio = pd.Series(np.nan, index=out.index)
    for i, name in reversed(list(enumerate(RULES, 1))):
        prio[out[name]] = i
    out["essex_priority"] = prio.astype("Int64")
    out = out.reset_index().sort_values("patient_id").reset_index(drop=True)
    out["as_of"] = as_of
    return out[feature_schema(spec).names]
