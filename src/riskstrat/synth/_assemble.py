"""Turn a simulation run into the canonical tables of the data contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from riskstrat.sources import CONTRACT
from riskstrat.synth._codes import (
    ACUTE_CODES,
    ACUTE_DRUGS,
    DRUGS,
    ELECTIVE_CODES,
    FALL_CAUSE_CODES,
    FALL_INJURY_CODES,
    FRAIL_CODES,
    FRAILTY_DRUG_TIERS,
    LTCS,
)
from riskstrat.synth._params import SynthParams
from riskstrat.synth._simulate import (
    LOCALITIES,
    NEVER,
    Events,
    People,
)

__all__: list[str] = []

_EPOCH = dt.date(1970, 1, 1)
_ISSUE_CYCLE = 28
_CHUNK = 100_000  # people per block when expanding prescriptions
_NOMINATION_REASONS = (
    "complex health needs",
    "multiple social needs",
    "carer under strain",
    "frequent GP contact",
    "recent decline in mobility",
)
# Admission hour weights: half of emergency admissions between 17:00 and 08:00.
_IN_HOURS = np.array([0.8, 1.1, 1.3, 1.4, 1.4, 1.4, 1.4, 1.3, 1.3])  # 08..16
_OUT_OF_HOURS = np.array(  # 17..23, 00..07
    [1.4, 1.4, 1.3, 1.2, 1.0, 0.9, 0.7, 0.5, 0.4, 0.35, 0.3, 0.3, 0.3, 0.4, 0.6]
)
_OOH_HOURS = np.array([17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7])


def patient_ids(n: int) -> np.ndarray:
    """Pseudonymous ids ``p0000001``...; as wide as ``n`` needs (at least 7)."""
    width = max(7, len(str(n)))
    return np.char.add("p", np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _dates(
    start: dt.date, days: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """Days relative to ``start`` as an Arrow date32 array (nulls where not valid)."""
    offset = (start - _EPOCH).days
    values = (days.astype(np.int64) + offset).astype(np.int32)
    mask = None if valid is None else ~valid
    return pa.array(values, type=pa.int32(), mask=mask).cast(pa.date32())


def _ids(ids: pa.Array, person: np.ndarray) -> pa.Array:
    """Patient id strings of ``person`` indices (Arrow take; no Python loop)."""
    return ids.take(pa.array(person, type=pa.int32()))


def _hours(oh_share: float, n: int, rng: np.random.Generator) -> np.ndarray:
    hours = np.concatenate([np.arange(8, 17), _OOH_HOURS])
    w = np.concatenate(
        [
            _IN_HOURS / _IN_HOURS.sum() * (1 - oh_share),
            _OUT_OF_HOURS / _OUT_OF_HOURS.sum() * oh_share,
        ]
    )
    return rng.choice(hours, size=n, p=w)


def assemble(
    people: People,
    events: Events,
    *,
    start: dt.date,
    days: int,
    params: SynthParams,
    rng: np.random.Generator,
) -> dict[str, pa.Table]:
    """Canonical tables (Arrow, contract schemas) of one run over ``days`` days."""
    n = people.u.shape[0]
    # Shown: registered before the extract, and alive and registered on some
    # day of the shown period (the warm-up before day 0 is never shown).
    observed = (people.reg_day < days) & (people.reg_day < people.death_day)
    observed &= people.reg_day <= people.dereg_day
    observed &= (people.death_day >= 0) & (people.dereg_day >= 0)
    all_ids = pa.array(patient_ids(n))
    end_day = np.minimum(np.minimum(people.death_day, people.dereg_day), days)

    # admissions: emergency spells observed while registered
    person = events.concat("em_person")
    day = events.concat("em_day")
    los = events.concat("em_los")
    frail = events.concat("em_frailty", np.float32)
    keep = observed[person] & (day >= people.reg_day[person]) & (day < days)
    keep &= (day <= people.dereg_day[person]) & (day >= 0)
    person, day, los, frail = person[keep], day[keep], los[keep], frail[keep]
    disch = np.minimum(day + los, people.death_day[person])
    em = _spells(person, day, disch, frail, people, params, rng, emergency=True)
    el = _electives(people, observed, person, day, disch, days, rng)
    adm = {k: np.concatenate([em[k], el[k]]) for k in em}
    order = np.lexsort((adm["day"], adm["person"]))
    adm = {k: v[order] for k, v in adm.items()}
    open_spell = adm["disch"] >= days
    admissions = pa.table(
        {
            "patient_id": _ids(all_ids, adm["person"]),
            "admission_date": _dates(start, adm["day"]),
            "discharge_date": _dates(start, adm["disch"], ~open_spell),
            "emergency": pa.array(adm["emergency"], type=pa.bool_()),
            "primary_diagnosis": pa.array(adm["primary"], type=pa.string()),
            "secondary_diagnoses": pa.array(
                adm["secondary"], type=pa.list_(pa.string())
            ),
            "admission_time": pa.array(
                adm["seconds"].astype(np.int32), pa.int32()
            ).cast(pa.time32("s")),
            "admission_method": pa.nulls(len(adm["day"]), pa.string()),
            "diagnosis_code_system": pa.array(
                np.full(len(adm["day"]), "icd10"), pa.string()
            ),
        },
        schema=CONTRACT["admissions"].arrow_schema(),
    )

    obs_idx = np.flatnonzero(observed)
    locality_names = np.array([name for name, _ in LOCALITIES])
    practice = np.char.add("P", np.char.zfill(people.practice[obs_idx].astype(str), 3))
    patients = pa.table(
        {
            "patient_id": _ids(all_ids, obs_idx),
            "birth_date": _dates(start, people.birth_day[obs_idx]),
            "sex": pa.array(np.where(people.male[obs_idx], "male", "female")),
            "locality": pa.array(locality_names[people.locality[obs_idx]]),
            "practice_id": pa.array(practice),
            "deprivation_decile": pa.array(
                people.deprivation[obs_idx].astype(np.int32),
                pa.int32(),
                mask=rng.random(obs_idx.size) < params.deprivation_missing_share,
            ),
            "death_date": _dates(
                start, people.death_day[obs_idx], people.death_day[obs_idx] < days
            ),
            "registration_date": _dates(start, people.reg_day[obs_idx]),
            "deregistration_date": _dates(
                start, people.dereg_day[obs_idx], people.dereg_day[obs_idx] < days
            ),
        },
        schema=CONTRACT["patients"].arrow_schema(),
    )
    return {
        "patients": patients,
        "admissions": admissions,
        "prescriptions": _prescriptions(
            people, events, observed, end_day, em, start, all_ids, rng
        ),
        "residences": _residences(people, observed, events, days, start, all_ids),
        "nominations": _nominations(
            people, observed, events, days, start, all_ids, rng
        ),
        "enrolments": _enrolments(
            people, observed, days, start, all_ids, locality_names
        ),
        "screenings": _screenings(people, observed, events, days, start, all_ids),
    }


def _spells(person, day, disch, frail, people, params, rng, *, emergency):
    """Diagnoses and admission times of emergency spells."""
    m = person.size
    age = (day - people.birth_day[person]) / 365.25
    ltc = people.ltc_day[person] <= day[:, None]  # held on the admission day
    # Frail-elderly indicator admissions become likelier with age and frailty.
    p_frail = np.where(
        age >= 65, 1 / (1 + np.exp(-(-2.2 + 0.7 * frail + 0.03 * (age - 75)))), 0.02
    )
    is_frail = rng.random(m) < p_frail
    kinds = np.array([k for k, _, _ in FRAIL_CODES])
    shares = np.array([s for _, _, s in FRAIL_CODES])
    kind = kinds[rng.choice(len(kinds), size=m, p=shares / shares.sum())]
    kind = np.where((kind == "nausea_vomiting") & (age < 70), "dehydration", kind)
    frail_code = {k: c for k, c, _ in FRAIL_CODES}
    n_ltc = ltc.sum(axis=1)
    is_exac = ~is_frail & (n_ltc > 0) & (rng.random(m) < 0.55)
    primary = rng.choice(np.array(ACUTE_CODES), size=m).astype(object)
    secondary: list[list[str]] = [[] for _ in range(m)]
    pick = rng.random((m, len(LTCS)))
    for i in np.flatnonzero(is_exac):
        held = np.flatnonzero(ltc[i])
        cond = LTCS[held[int(pick[i, 0] * held.size)]]
        primary[i] = cond.exacerbation_codes[
            int(pick[i, 1] * len(cond.exacerbation_codes))
        ]
    for i in np.flatnonzero(is_frail):
        if kind[i] == "fall":
            primary[i] = FALL_INJURY_CODES[int(pick[i, 0] * len(FALL_INJURY_CODES))]
            secondary[i].append(
                FALL_CAUSE_CODES[int(pick[i, 1] * len(FALL_CAUSE_CODES))]
            )
        else:
            primary[i] = frail_code[kind[i]]
    # Coding noise: some frail-elderly admissions are coded as unspecified.
    unspecified = is_frail & (rng.random(m) < params.frail_code_unspecified_share)
    primary[unspecified] = "R69X"
    recorded = rng.random((m, len(LTCS))) < 0.75
    for j, cond in enumerate(LTCS):
        for i in np.flatnonzero(ltc[:, j] & recorded[:, j]):
            code = cond.comorbidity_codes[int(pick[i, j] * len(cond.comorbidity_codes))]
            if code != primary[i]:
                secondary[i].append(code)
    if emergency:
        hours = _hours(params.out_of_hours_share, m, rng)
    else:
        hours = rng.choice(np.array([7, 8, 9, 10, 11, 13]), size=m)
    seconds = hours * 3600 + rng.integers(0, 60, size=m) * 60
    return {
        "person": person.astype(np.int32),
        "day": day.astype(np.int32),
        "disch": disch.astype(np.int32),
        "emergency": np.full(m, emergency),
        "primary": primary,
        "secondary": np.array([*secondary, None], dtype=object)[:-1],
        "seconds": seconds,
    }


def _electives(people, observed, em_person, em_day, em_disch, days, rng):
    """Elective spells that never overlap an emergency spell of the same person."""
    n = people.u.shape[0]
    first = np.maximum(people.reg_day, 0)
    last = np.minimum(np.minimum(people.death_day, people.dereg_day), days)
    years = np.where(observed, np.maximum(last - first, 0) / 365.25, 0.0)
    age = np.maximum(-people.birth_day / 365.25, 0)
    rate = 0.04 * (1 + 0.04 * np.maximum(age - 40, 0)) * (1 + 0.4 * people.ltc.sum(1))
    count = rng.poisson(rate * years)
    person = np.repeat(np.arange(n, dtype=np.int32), count)
    span = (last - first)[person]
    day = first[person] + np.floor(rng.random(person.size) * span).astype(np.int32)
    los = np.where(rng.random(person.size) < 0.65, 0, 1 + rng.poisson(1.5, person.size))
    disch = np.minimum(day + los, people.death_day[person]).astype(np.int32)
    # Drop electives overlapping an emergency spell or an earlier elective.
    key_em = em_person.astype(np.int64) * (2**31) + em_day
    order = np.argsort(key_em, kind="stable")
    key_em, em_disch_sorted = key_em[order], em_disch[order]
    key = person.astype(np.int64) * (2**31) + day
    pos = np.searchsorted(key_em, key, side="right")
    prev_ok = pos == 0
    prev = np.maximum(pos - 1, 0)
    prev_ok |= (key_em[prev] >> 31) != person
    prev_ok |= em_disch_sorted[prev] < day
    nxt = np.minimum(pos, max(key_em.size - 1, 0))
    next_ok = (pos >= key_em.size) | ((key_em[nxt] >> 31) != person)
    next_ok |= (key_em[nxt] & (2**31 - 1)) > disch
    keep = prev_ok & next_ok
    person, day, disch = person[keep], day[keep], disch[keep]
    order = np.lexsort((day, person))
    person, day, disch = person[order], day[order], disch[order]
    clash = np.zeros(person.size, dtype=bool)
    if person.size > 1:
        clash[1:] = (person[1:] == person[:-1]) & (day[1:] <= disch[:-1])
    person, day, disch = person[~clash], day[~clash], disch[~clash]
    m = person.size
    primary = rng.choice(np.array(ELECTIVE_CODES), size=m).astype(object)
    hours = rng.choice(np.array([7, 8, 9, 10, 11, 13]), size=m)
    return {
        "person": person,
        "day": day,
        "disch": disch,
        "emergency": np.zeros(m, dtype=bool),
        "primary": primary,
        "secondary": np.array([[]] * m + [None], dtype=object)[:-1],
        "seconds": hours * 3600 + rng.integers(0, 60, size=m) * 60,
    }


def _prescriptions(people, events, observed, end_day, em, start, all_ids, rng):
    """Repeat prescriptions every 28 days for each drug a person takes."""
    n = people.u.shape[0]
    codes = np.array(list(DRUGS))
    code_index = {c: i for i, c in enumerate(codes)}
    taking = np.full((n, codes.size), NEVER, dtype=np.int32)  # first day on drug
    start_day = np.maximum(people.reg_day, 0)
    for j, cond in enumerate(LTCS):
        for k, code in enumerate(cond.drugs):
            p_take = (0.85, 0.65, 0.5, 0.4)[k]
            on = observed & people.ltc[:, j] & (rng.random(n) < p_take)
            col = code_index[code]
            onset = np.maximum(people.ltc_day[:, j], start_day)
            taking[on, col] = np.minimum(taking[on, col], onset[on])
    for k, (_, tier_drugs) in enumerate(FRAILTY_DRUG_TIERS):
        crossed = observed & (people.cross_day[:, k] < NEVER)
        for code in tier_drugs:
            col = code_index[code]
            first = np.maximum(people.cross_day[:, k], start_day)
            on = crossed & (rng.random(n) < 0.8)
            taking[on, col] = np.minimum(taking[on, col], first[on])
    pers, drug = np.nonzero(taking < end_day[:, None])  # person-major order
    pers, drug = pers.astype(np.int32), drug.astype(np.int32)
    first = taking[pers, drug] + rng.integers(0, _ISSUE_CYCLE, size=pers.size)
    count = np.maximum(np.ceil((end_day[pers] - first) / _ISSUE_CYCLE), 0)
    count = count.astype(np.int32)
    # Acute courses on discharge from emergency spells.
    uti = em["primary"] == "N390"
    give = (uti | (rng.random(uti.size) < 0.25)) & (em["disch"] < end_day[em["person"]])
    d_drug = np.where(uti, code_index["0501130R0"], code_index["0501013B0"])
    # Acute courses prescribed in primary care (drawn by the simulation).
    g_person = events.concat("acute_person")
    g_day = events.concat("acute_day")
    g_drug = np.array([code_index[c] for c in ACUTE_DRUGS], dtype=np.int32)[
        events.concat("acute_drug", np.int8)
    ]
    seen = observed[g_person] & (g_day < end_day[g_person])
    a_person = np.concatenate([em["person"][give], g_person[seen]])
    a_day = np.concatenate([em["disch"][give], g_day[seen]])
    a_drug = np.concatenate([d_drug[give], g_drug[seen]])
    a_order = np.argsort(a_person, kind="stable")
    a_person = a_person[a_order].astype(np.int32)
    a_day = a_day[a_order].astype(np.int32)
    a_drug = a_drug[a_order].astype(np.int32)
    # Expand issues a block of people at a time to bound memory at scale.
    bounds = np.arange(0, n + _CHUNK, _CHUNK)
    pair_cut = np.searchsorted(pers, bounds)
    acute_cut = np.searchsorted(a_person, bounds)
    code_arr = pa.array(codes)
    names = pa.array(np.array([DRUGS[c] for c in codes]))
    system = pa.array(["bnf"])
    schema = CONTRACT["prescriptions"].arrow_schema()
    parts = []
    for c in range(bounds.size - 1):
        pairs = slice(pair_cut[c], pair_cut[c + 1])
        cnt = count[pairs]
        rows = np.repeat(np.arange(cnt.size, dtype=np.int32), cnt)
        offsets = (np.cumsum(cnt, dtype=np.int64) - cnt).astype(np.int32)
        within = np.arange(rows.size, dtype=np.int32) - np.repeat(offsets, cnt)
        issue_day = first[pairs][rows] + within * _ISSUE_CYCLE
        keep = rng.random(rows.size) < 0.93  # a missed issue now and then
        acute = slice(acute_cut[c], acute_cut[c + 1])
        c_person = np.concatenate([pers[pairs][rows][keep], a_person[acute]])
        c_drug = np.concatenate([drug[pairs][rows][keep], a_drug[acute]])
        c_day = np.concatenate([issue_day[keep], a_day[acute]])
        order = np.lexsort((c_drug, c_day, c_person))
        idx = pa.array(c_drug[order].astype(np.int32))
        parts.append(
            pa.table(
                {
                    "patient_id": _ids(all_ids, c_person[order]),
                    "issue_date": _dates(start, c_day[order]),
                    "drug_code": pa.DictionaryArray.from_arrays(idx, code_arr),
                    "drug_code_system": pa.DictionaryArray.from_arrays(
                        pa.array(np.zeros(order.size, dtype=np.int32)), system
                    ),
                    "drug_name": pa.DictionaryArray.from_arrays(idx, names),
                },
                schema=schema,
            )
        )
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _residences(people, observed, events, days, start, all_ids):
    """Care-home periods: the one held on day 0 and every move after it."""
    base = np.flatnonzero(observed & (people.residence0 > 0))
    before = np.minimum(np.full(base.size, 3 * 365), -people.birth_day[base] - 65 * 365)
    base_start = np.where(
        people.reg_day[base] > 0,
        people.reg_day[base],
        -np.maximum(before // 2, 1),
    ).astype(np.int32)
    m_person = events.concat("move_person")
    m_day = events.concat("move_day")
    m_to = events.concat("move_to", np.int8)
    keep = observed[m_person] & (m_day < days)
    person = np.concatenate([base, m_person[keep]]).astype(np.int32)
    day = np.concatenate([base_start, m_day[keep]]).astype(np.int32)
    kind = np.concatenate([people.residence0[base], m_to[keep]])
    order = np.lexsort((day, person))
    person, day, kind = person[order], day[order], kind[order]
    nxt = np.full(person.size, NEVER, dtype=np.int32)
    same = person[1:] == person[:-1]
    nxt[:-1][same] = day[1:][same]
    types = np.array(["private", "residential_home", "nursing_home"])
    return pa.table(
        {
            "patient_id": _ids(all_ids, person),
            "start_date": _dates(start, day),
            "end_date": _dates(start, nxt, nxt < NEVER),
            "residence_type": pa.array(types[kind]),
        },
        schema=CONTRACT["residences"].arrow_schema(),
    )


def _nominations(people, observed, events, days, start, all_ids, rng):
    person = events.concat("nom_person")
    day = events.concat("nom_day")
    keep = observed[person] & (day >= people.reg_day[person]) & (day < days)
    person, day = person[keep], day[keep]
    order = np.lexsort((day, person))
    person, day = person[order], day[order]
    reasons = np.array(_NOMINATION_REASONS)[rng.integers(0, 5, size=person.size)]
    return pa.table(
        {
            "patient_id": _ids(all_ids, person),
            "date": _dates(start, day),
            "reason": pa.array(reasons, type=pa.string()),
        },
        schema=CONTRACT["nominations"].arrow_schema(),
    )


def _screenings(people, observed, events, days, start, all_ids):
    """Every screening of the programme: accepted (enrolled that day) or declined."""
    person = events.concat("scr_person")
    day = events.concat("scr_day")
    accepted = events.concat("scr_accepted", dtype=bool)
    keep = observed[person] & (day >= people.reg_day[person]) & (day < days)
    person, day, accepted = person[keep], day[keep], accepted[keep]
    order = np.lexsort((day, person))
    person, day, accepted = person[order], day[order], accepted[order]
    return pa.table(
        {
            "patient_id": _ids(all_ids, person),
            "date": _dates(start, day),
            "outcome": pa.array(np.where(accepted, "accepted", "declined")),
        },
        schema=CONTRACT["screenings"].arrow_schema(),
    )


def _enrolments(people, observed, days, start, all_ids, locality_names):
    person = np.flatnonzero(observed & (people.enrol_day < days))
    end = np.minimum(people.death_day[person], people.dereg_day[person])
    return pa.table(
        {
            "patient_id": _ids(all_ids, person),
            "enrol_date": _dates(start, people.enrol_day[person]),
            "end_date": _dates(start, end, end < days),
            "locality": pa.array(locality_names[people.locality[person]]),
        },
        schema=CONTRACT["enrolments"].arrow_schema(),
    )
