"""The daily simulation behind the synthetic population.

One step per day, vectorised over people. Each day a living person who is not
in hospital has an emergency admission with probability
``1 - exp(-rate * boost / 365.25)``, where ``rate`` depends on age, sex,
deprivation, long-term conditions, latent frailty, residence, season and
case-management enrolment, and ``boost`` is the raised hazard for some weeks
after a discharge. Deaths, care-home moves, deregistrations and clinician
nominations share a second uniform draw. Frailty and ages are updated weekly
(on days divisible by 7, so a run split at any day reproduces a whole run).

The same step, run with ``conditional=True``, simulates the future *given no
emergency admission* and accumulates ``log(1 - p)``; averaging
``exp(sum log(1 - p))`` over paths gives the exact probability of no emergency
admission (a Rao-Blackwellised Monte Carlo estimate). That is how
:meth:`riskstrat.synth.Truth.true_risk` stays consistent with how events are
drawn.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

import numpy as np

from riskstrat.synth._codes import ACUTE_DRUGS, FRAILTY_DRUG_TIERS, LTCS
from riskstrat.synth._params import SynthParams

__all__: list[str] = []

NEVER = np.int32(2**30)
PAST = np.int32(-(2**30))
_YEAR = 365.25
# Locality names and weights from Table one of the seed (weighted capitation).
LOCALITIES: tuple[tuple[str, float], ...] = (
    ("West Essex", 15.6),
    ("North East Essex", 20.5),
    ("Mid Essex", 19.0),
    ("South West Essex", 24.3),
    ("South East Essex", 20.8),
)
PRACTICES_PER_LOCALITY = 8
# Age distribution of a registered list (share by band, England-like).
_AGE_BANDS = (
    (0, 18, 0.21),
    (18, 45, 0.36),
    (45, 65, 0.25),
    (65, 75, 0.09),
    (75, 85, 0.065),
    (85, 90, 0.016),
    (90, 95, 0.007),
    (95, 101, 0.002),
)


@dataclass
class People:
    """Per-person arrays: fixed attributes and the evolving state."""

    birth_day: np.ndarray  # int32, day relative to start (negative)
    male: np.ndarray
    deprivation: np.ndarray  # int8 1..10
    locality: np.ndarray  # int8 index into LOCALITIES
    practice: np.ndarray  # int16
    ltc: np.ndarray  # bool (n, len(LTCS)): held now
    ltc_day: np.ndarray  # int32 (n, len(LTCS)): onset day (NEVER if not held)
    ltc_logit: np.ndarray  # logit of prevalence at age 60 (n, len(LTCS))
    u: np.ndarray  # persistent frailty
    em_static: np.ndarray  # log-HR of emergency admission from fixed attributes
    death_static: np.ndarray
    reg_day: np.ndarray  # int32
    # evolving state
    x: np.ndarray  # transient frailty
    age: np.ndarray  # years, updated weekly
    frailty: np.ndarray  # u + x + age term, updated weekly
    alive: np.ndarray
    death_day: np.ndarray
    dereg_day: np.ndarray
    hosp_until: np.ndarray  # discharge day of the current/last spell
    last_disch: np.ndarray
    residence: np.ndarray  # int8: 0 private, 1 residential, 2 nursing
    residence0: np.ndarray  # residence on day 0
    enrolled: np.ndarray
    enrol_day: np.ndarray
    effect_log_hr: np.ndarray  # the person's log hazard ratio once the effect starts
    screen_day: np.ndarray  # last programme screening
    nom_day: np.ndarray  # last clinician nomination
    pid: np.ndarray  # int32 person index (keys the person's own random numbers)
    em_last1: np.ndarray
    em_last2: np.ndarray
    cross_day: np.ndarray  # int32 (n, len(FRAILTY_DRUG_TIERS))

    def take(self, idx: np.ndarray) -> People:
        """Rows ``idx`` of every array (copies)."""
        return People(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def copy(self) -> People:
        """A deep copy."""
        return copy.deepcopy(self)


@dataclass
class Events:
    """Events recorded by a run (arrays of person index and day)."""

    em_person: list[np.ndarray] = field(default_factory=list)
    em_day: list[np.ndarray] = field(default_factory=list)
    em_los: list[np.ndarray] = field(default_factory=list)
    em_frailty: list[np.ndarray] = field(default_factory=list)
    move_person: list[np.ndarray] = field(default_factory=list)
    move_day: list[np.ndarray] = field(default_factory=list)
    move_to: list[np.ndarray] = field(default_factory=list)
    nom_person: list[np.ndarray] = field(default_factory=list)
    nom_day: list[np.ndarray] = field(default_factory=list)
    acute_person: list[np.ndarray] = field(default_factory=list)
    acute_day: list[np.ndarray] = field(default_factory=list)
    acute_drug: list[np.ndarray] = field(default_factory=list)
    scr_person: list[np.ndarray] = field(default_factory=list)
    scr_day: list[np.ndarray] = field(default_factory=list)
    scr_accepted: list[np.ndarray] = field(default_factory=list)

    def concat(self, name: str, dtype: type = np.int32) -> np.ndarray:
        """All arrays of one list joined (empty array if none)."""
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


# Age of movers who register during the simulation (share by band).
_MOVER_BANDS = (
    (0, 18, 0.17),
    (18, 45, 0.58),
    (45, 65, 0.15),
    (65, 85, 0.08),
    (85, 100, 0.02),
)
_SELECTION_DRAWS = 4
_ADULT_ONLY = frozenset({"hypertension", "diabetes", "coronary_heart_disease"})
_LTC_EVERY_DAYS = 28
_LTC_INDEX = {cond.name: j for j, cond in enumerate(LTCS)}
# Pairs of conditions with an extra emergency hazard when held together.
_PAIRS = (
    (_LTC_INDEX["heart_failure"], _LTC_INDEX["chronic_kidney_disease"]),
    (_LTC_INDEX["copd"], _LTC_INDEX["heart_failure"]),
)


def _draw_ages(
    bands: tuple[tuple[int, int, float], ...], n: int, rng: np.random.Generator
) -> np.ndarray:
    w = np.array([b[2] for b in bands])
    band = rng.choice(len(bands), size=n, p=w / w.sum())
    lo = np.array([b[0] for b in bands])[band]
    hi = np.array([b[1] for b in bands])[band]
    return np.asarray(lo + rng.random(n) * (hi - lo), dtype=np.float64)


def _survivor_frailty(
    age: np.ndarray, params: SynthParams, rng: np.random.Generator
) -> np.ndarray:
    """Persistent frailty of people who survived to ``age``.

    Drawing ``u`` independently of age would fill the old bands with people too
    frail to have lived so long, and they would die in the first simulated
    years. Each person gets the best of a few draws of ``u`` by sampling
    importance resampling: weights ``exp(-H(u, age))``, ``H`` the cumulative
    Gompertz hazard of death from birth (frailty's transient part averaged out),
    with the all-cause scale and frailty coefficient of
    ``params.survivor_log_scale`` and ``params.survivor_frailty_coef`` (deaths
    in hospital and the conditions that come with frailty make all-cause
    mortality steeper in frailty than ``death_frailty_coef`` alone).
    """
    n = age.shape[0]
    sd = params.frailty_persistent_sd
    cand = rng.normal(0.0, sd, size=(n, _SELECTION_DRAWS))
    c, b = params.survivor_frailty_coef, params.death_gompertz_slope
    k = params.frailty_age_slope
    base = params.death_gompertz_intercept + params.survivor_log_scale
    base += 0.5 * (c * params.frailty_transient_sd) ** 2
    a = age[:, None]
    young = np.expm1(b * np.minimum(a, 60)) / b
    slope = b + c * k
    old = np.where(
        a > 60,
        np.exp(b * 60) * np.expm1(slope * np.maximum(a - 60, 0)) / slope,
        0.0,
    )
    cum = np.exp(base + c * cand) * (young + old)
    gumbel = -np.log(-np.log(rng.random((n, _SELECTION_DRAWS))))
    pick = np.argmax(-cum + gumbel, axis=1)
    return np.asarray(cand[np.arange(n), pick])


def init_people(
    n: int, days: int, params: SynthParams, rng: np.random.Generator
) -> People:
    """Draw ``n`` people: those registered when the simulation starts, then movers.

    Day indices are relative to the first shown date; the simulation starts on
    day ``-params.warmup_days`` and runs to ``days``. A share of the ``n``
    people register later (births and movers, spread evenly over the simulated
    years) at ``params.registration_rate`` a year, so the population is open.
    """
    first = -int(params.warmup_days)
    years = (days - first) / _YEAR
    inflow = params.registration_rate * years / (1 + params.registration_rate * years)
    later = rng.random(n) < inflow
    reg_later = rng.integers(first + 1, max(days, first + 2), size=n).astype(np.int32)
    newborn = later & (rng.random(n) < params.newborn_share)
    age_reg = np.where(
        newborn, 0.0, _draw_ages(_MOVER_BANDS, n, rng) + rng.random(n) / 365
    )
    age_init = _draw_ages(_AGE_BANDS, n, rng)
    # age_ref: the age at which a person enters the simulation (its first day
    # or their registration).
    age_ref = np.where(later, age_reg, age_init)
    ref_day = np.where(later, reg_later, first).astype(np.int32)
    birth_day = (ref_day - np.round(age_ref * _YEAR)).astype(np.int32) - 1
    male = rng.random(n) < 0.49
    deprivation = rng.integers(1, 11, size=n).astype(np.int8)
    loc_w = np.array([w for _, w in LOCALITIES])
    locality = rng.choice(len(LOCALITIES), size=n, p=loc_w / loc_w.sum()).astype(
        np.int8
    )
    practice = (
        locality.astype(np.int16) * PRACTICES_PER_LOCALITY
        + rng.integers(0, PRACTICES_PER_LOCALITY, size=n)
    ).astype(np.int16)
    u = _survivor_frailty(age_ref, params, rng)
    dep_centre = (5.5 - deprivation) / 4.5  # +1 most deprived, -1 least
    ltc = np.zeros((n, len(LTCS)), dtype=bool)
    ltc_logit = np.zeros((n, len(LTCS)), dtype=np.float32)
    em_static = np.where(male, params.emergency_male_log_hr, 0.0)
    em_static = em_static + params.emergency_deprivation_log_hr * (5.5 - deprivation)
    death_static = np.zeros(n)
    age0 = age_ref
    for j, cond in enumerate(LTCS):
        ltc_logit[:, j] = (
            cond.prevalence_intercept
            + params.ltc_frailty_loading * u / params.frailty_persistent_sd
            + 0.25 * dep_centre
        )
        logit = ltc_logit[:, j] + cond.prevalence_per_decade * (age0 - 60) / 10
        if cond.name in _ADULT_ONLY:
            logit = np.where(age0 < 18, -9.0, logit)
        ltc[:, j] = rng.random(n) < 1 / (1 + np.exp(-logit))
        em_static = em_static + cond.emergency_log_hr * ltc[:, j]
        death_static = death_static + cond.death_log_hr * ltc[:, j]
    # Registration of the people there from the start: some time before it.
    before = first - np.minimum(
        rng.integers(0, 20 * 365, size=n), first - birth_day.astype(np.int64)
    ).astype(np.int32)
    reg_day = np.where(later, reg_later, before).astype(np.int32)
    ltc_day = np.where(ltc, np.minimum(reg_day, ref_day)[:, None], NEVER)
    x = rng.normal(0.0, params.frailty_transient_sd, size=n)
    age = (first - birth_day) / _YEAR
    frailty = u + x + params.frailty_age_slope * np.maximum(age - 60, 0)
    # Care homes when entering the simulation, for people 65+.
    logit_ch = (
        params.care_home_init_intercept
        + params.care_home_init_age_slope * age_ref
        + params.care_home_frailty_coef * frailty
    )
    in_home = (age_ref >= 65) & (rng.random(n) < 1 / (1 + np.exp(-logit_ch)))
    nursing = rng.random(n) < 0.45
    residence = np.where(in_home, np.where(nursing, 2, 1), 0).astype(np.int8)
    n_practices = len(LOCALITIES) * PRACTICES_PER_LOCALITY
    practice_effect = rng.normal(0.0, params.practice_log_hr_sd, size=n_practices)
    em_static = em_static + practice_effect[practice]
    n_tiers = len(FRAILTY_DRUG_TIERS)
    cross_day = np.full((n, n_tiers), NEVER, dtype=np.int32)
    for k, (threshold, _) in enumerate(FRAILTY_DRUG_TIERS):
        cross_day[(frailty > threshold) & ~later, k] = first
    return People(
        birth_day=birth_day,
        male=male,
        deprivation=deprivation,
        locality=locality,
        practice=practice,
        ltc=ltc,
        ltc_day=ltc_day.astype(np.int32),
        ltc_logit=ltc_logit,
        u=u,
        em_static=em_static,
        death_static=death_static,
        reg_day=reg_day,
        x=x,
        age=age,
        frailty=frailty,
        alive=np.ones(n, dtype=bool),
        death_day=np.full(n, NEVER, dtype=np.int32),
        dereg_day=np.full(n, NEVER, dtype=np.int32),
        hosp_until=np.full(n, PAST, dtype=np.int32),
        last_disch=np.full(n, PAST, dtype=np.int32),
        residence=residence,
        residence0=residence.copy(),
        enrolled=np.zeros(n, dtype=bool),
        enrol_day=np.full(n, NEVER, dtype=np.int32),
        effect_log_hr=np.zeros(n),
        screen_day=np.full(n, PAST, dtype=np.int32),
        nom_day=np.full(n, PAST, dtype=np.int32),
        pid=np.arange(n, dtype=np.int32),
        em_last1=np.full(n, PAST, dtype=np.int32),
        em_last2=np.full(n, PAST, dtype=np.int32),
        cross_day=cross_day,
    )


def _weekly(p: People, t: int, params: SynthParams, rng: np.random.Generator) -> None:
    rho = np.exp(-7.0 / params.frailty_reversion_days)
    eps = rng.normal(0.0, 1.0, size=p.x.shape[0])
    p.x = rho * p.x + np.sqrt(1 - rho**2) * params.frailty_transient_sd * eps
    p.age = (t - p.birth_day) / _YEAR
    p.frailty = p.u + p.x + params.frailty_age_slope * np.maximum(p.age - 60, 0)
    for k, (threshold, _) in enumerate(FRAILTY_DRUG_TIERS):
        first = (p.frailty > threshold) & (p.cross_day[:, k] == NEVER) & p.alive
        p.cross_day[first, k] = t


def _ltc_onsets(p: People, t: int, rng: np.random.Generator) -> None:
    """New long-term conditions over the ``_LTC_EVERY_DAYS`` days from ``t``.

    Prevalence at age ``a`` is ``P(a) = logistic(l + s * (a - 60) / 10)``; the
    onset hazard among people without the condition that keeps a cohort on
    that curve as it ages is ``dP/da / (1 - P) = P * s / 10`` a year
    (conditions whose prevalence falls with age get no new cases). Onsets raise
    the person's emergency and death hazards from then on.
    """
    draw = rng.random(p.ltc.shape)
    live = p.alive & (t < p.dereg_day)
    for j, cond in enumerate(LTCS):
        if cond.prevalence_per_decade <= 0:
            continue
        logit = p.ltc_logit[:, j] + cond.prevalence_per_decade * (p.age - 60) / 10
        if cond.name in _ADULT_ONLY:
            logit = np.where(p.age < 18, -9.0, logit)
        rate = cond.prevalence_per_decade / 10 / (1 + np.exp(-logit))
        new = (
            live
            & ~p.ltc[:, j]
            & (draw[:, j] < -np.expm1(-rate * _LTC_EVERY_DAYS / _YEAR))
        )
        if new.any():
            p.ltc[new, j] = True
            p.ltc_day[new, j] = t
            p.em_static[new] += cond.emergency_log_hr
            p.death_static[new] += cond.death_log_hr


def _acute_prescribing(
    p: People, t: int, params: SynthParams, rng: np.random.Generator, events: Events
) -> None:
    """Acute primary-care prescriptions in week ``[t, t + 7)``, driven by frailty.

    A Poisson number of acute courses per person, at the annual rate
    ``acute_base_rate * exp(acute_frailty_coef * frailty)``: the GP sees a
    deteriorating person more often, so current frailty (including its
    transient part) leaves a trace in the record. Drawn from a stream of its
    own, so the other events are the same with or without it.
    """
    active = p.alive & (t >= p.reg_day) & (t < p.dereg_day) & (t > p.hosp_until)
    rate = params.acute_base_rate * np.exp(params.acute_frailty_coef * p.frailty)
    # Drawn for everyone and masked afterwards: what the stream consumes depends
    # only on frailty, which no event changes, so a counterfactual run (where
    # admissions and deaths differ) draws the same numbers.
    k = rng.poisson(rate * 7.0 / _YEAR)
    idx = np.repeat(np.flatnonzero(k), k[k > 0])
    day = t + rng.integers(0, 7, size=idx.size)
    drug = rng.integers(0, len(ACUTE_DRUGS), size=idx.size)
    keep = active[idx]
    if keep.any():
        events.acute_person.append(idx[keep].astype(np.int32))
        events.acute_day.append(day[keep].astype(np.int32))
        events.acute_drug.append(drug[keep].astype(np.int8))


def emergency_rate(p: People, t: int, params: SynthParams) -> np.ndarray:
    """Annual emergency-admission rate of each person on day ``t`` (no boost)."""
    age_term = params.emergency_age_slope * np.maximum(p.age - 45, 0) + np.log1p(
        1.5 * np.exp(-p.age / 1.5)
    )
    # What a log-linear model of the records cannot express: frailty matters
    # more with age, and some conditions matter more together.
    age_term = age_term + params.frailty_age_interaction * p.frailty * (
        np.maximum(p.age - 65, 0) / 10
    )
    for i, j in _PAIRS:
        age_term = age_term + params.ltc_pair_log_hr * (p.ltc[:, i] & p.ltc[:, j])
    winter = params.winter_amplitude * np.cos(2 * np.pi * (t - 15) / _YEAR)
    lp = (
        np.log(params.emergency_base_rate)
        + age_term
        + p.em_static
        + params.emergency_frailty_coef * p.frailty
        + params.care_home_log_hr * (p.residence > 0)
        + winter
    )
    return np.exp(lp)


def _boost(p: People, t: int, size: float, days: float) -> np.ndarray:
    since = np.maximum(t - p.last_disch, 0).astype(np.float64)
    return 1.0 + size * np.exp(-since / days)


def _review(
    p: People,
    t: int,
    programme: RunProgramme | None,
    rng: np.random.Generator,
    events: Events | None = None,
) -> None:
    """Programme screening on day ``t`` (if it is a review day).

    Draws a fixed number of values per review (one uniform and one gamma per
    person), so the programme's stream does not depend on who is referred.
    Each screening (who, the day, accepted or declined) goes to ``events``.
    """
    if programme is None:
        return
    since = t - programme.start_day
    if since < 0 or since % programme.review_every_days:
        return
    n = p.x.shape[0]
    draw = rng.random(n)
    shape = 1.0 / max(programme.effect_spread, 1e-6) ** 2
    multiplier = np.asarray(rng.gamma(shape, 1.0 / shape, size=n))
    registered = (p.reg_day <= t) & (t < p.dereg_day)
    referred = p.em_last2 >= np.maximum(t - 365, p.reg_day)
    if programme.nominations:
        referred |= p.nom_day >= t - programme.nomination_window_days
    screened = p.alive & registered & ~p.enrolled & (p.age >= programme.min_age)
    screened &= referred & (p.screen_day <= t - programme.rescreen_days)
    logit = np.log(programme.uptake / max(1 - programme.uptake, 1e-12))
    logit = logit + programme.frailty_selection * p.u / programme.frailty_sd
    take = screened & (draw < 1 / (1 + np.exp(-logit)))
    p.screen_day[screened] = t
    if events is not None:
        who = np.flatnonzero(screened)
        events.scr_person.append(who.astype(np.int32))
        events.scr_day.append(np.full(who.size, t, dtype=np.int32))
        events.scr_accepted.append(take[who])
    p.enrolled[take] = True
    p.enrol_day[take] = t
    spread = multiplier if programme.effect_spread > 0 else np.ones(n)
    p.effect_log_hr[take] = np.log(programme.hazard_ratio) * spread[take]


def step(
    p: People,
    t: int,
    params: SynthParams,
    rng: np.random.Generator,
    seed: int,
    rng_prog: np.random.Generator,
    programme: RunProgramme | None = None,
    events: Events | None = None,
    conditional: bool = False,
    rng_acute: np.random.Generator | None = None,
) -> np.ndarray | None:
    """Advance every person by day ``t``.

    With ``conditional=True`` no emergency admission is drawn and the function
    returns ``log(1 - p_emergency)`` of each person for the day (0 where not at
    risk); otherwise admissions are drawn and recorded in ``events``.
    """
    if t % 7 == 0 and t > -params.warmup_days:
        _weekly(p, t, params, rng)
    if t % _LTC_EVERY_DAYS == 0 and t > -params.warmup_days:
        _ltc_onsets(p, t, rng)
    if t % 7 == 0 and events is not None and rng_acute is not None:
        _acute_prescribing(p, t, params, rng_acute, events)
    _review(p, t, programme, rng_prog, events)
    n = p.x.shape[0]
    active = p.alive & (p.reg_day <= t) & (t < p.dereg_day)
    at_risk = active & (t > p.hosp_until)
    rate = emergency_rate(p, t, params)
    if programme is not None:
        effective = p.enrolled & (t >= p.enrol_day + programme.effect_delay_days)
        rate = np.where(effective, rate * np.exp(p.effect_log_hr), rate)
    boost = _boost(p, t, params.post_discharge_boost, params.post_discharge_days)
    cum = rate * boost / _YEAR
    log_surv = None
    if conditional:
        log_surv = np.where(at_risk, -cum, 0.0)
        admitted = np.zeros(n, dtype=bool)
    else:
        admitted = at_risk & (rng.random(n) < -np.expm1(-cum))
    # Rare events share one uniform draw: death, care-home move, deregistration,
    # nomination (mutually exclusive on a day).
    in_hosp = t <= p.hosp_until
    death_rate = np.exp(
        params.death_gompertz_intercept
        + params.death_gompertz_slope * p.age
        + p.death_static
        + params.death_frailty_coef * p.frailty
    )
    # Care-home residents die more often, and in the home rather than admitted.
    outside = np.exp(params.care_home_death_log_hr * (p.residence > 0))
    death_rate = death_rate * np.where(in_hosp, params.death_in_hospital_hr, outside)
    death_rate = death_rate * _boost(p, t, 2.0, params.post_discharge_days)
    home_rate = np.exp(
        params.care_home_intercept
        + params.care_home_age_slope * p.age
        + params.care_home_frailty_coef * p.frailty
    ) * _boost(p, t, params.care_home_post_discharge_boost, params.post_discharge_days)
    home_rate = np.where(
        (p.age >= 65) & (p.residence < 2),
        np.where(p.residence == 1, 0.5 * home_rate, home_rate),
        0.0,
    )
    registered = active
    dereg_rate = np.where(
        registered & ~in_hosp,
        np.where(
            p.age < 65, params.deregistration_rate_young, params.deregistration_rate_old
        ),
        0.0,
    )
    nom_rate = np.where(
        registered & (p.age >= 65), params.nomination_rate * np.exp(p.frailty - 1), 0.0
    )
    c1 = np.asarray(-np.expm1(-death_rate / _YEAR))
    c2 = np.asarray(c1 - np.expm1(-home_rate / _YEAR))
    c3 = c2 - np.expm1(-dereg_rate / _YEAR)
    c4 = c3 - np.expm1(-nom_rate / _YEAR)
    v = np.asarray(rng.random(n), dtype=np.float64)
    dies = active & (v < c1)
    moves = active & ~dies & (v < c2)
    leaves = active & (v >= c2) & (v < c3)
    nominated = active & (v >= c3) & (v < c4)

    if admitted.any():
        idx = np.flatnonzero(admitted)
        los = _length_of_stay(p.age[idx], p.frailty[idx], seed, p.pid[idx], t)
        p.hosp_until[idx] = t + los
        p.last_disch[idx] = t + los
        p.em_last2[idx] = p.em_last1[idx]
        p.em_last1[idx] = t
        if events is not None:
            events.em_person.append(idx.astype(np.int32))
            events.em_day.append(np.full(idx.size, t, dtype=np.int32))
            events.em_los.append(los)
            events.em_frailty.append(p.frailty[idx].astype(np.float32))
    if moves.any():
        idx = np.flatnonzero(moves)
        # From private: residential with prob 0.55 (position within the interval).
        pos = (v[idx] - c1[idx]) / np.maximum(c2[idx] - c1[idx], 1e-300)
        new = np.where(p.residence[idx] == 1, 2, np.where(pos < 0.55, 1, 2))
        p.residence[idx] = new.astype(np.int8)
        if events is not None:
            events.move_person.append(idx.astype(np.int32))
            events.move_day.append(np.full(idx.size, t, dtype=np.int32))
            events.move_to.append(new.astype(np.int8))
    p.nom_day[nominated] = t
    if nominated.any() and events is not None:
        idx = np.flatnonzero(nominated)
        events.nom_person.append(idx.astype(np.int32))
        events.nom_day.append(np.full(idx.size, t, dtype=np.int32))
    p.alive[dies] = False
    p.death_day[dies] = t
    p.dereg_day[leaves] = t
    return log_surv


def person_uniform(seed: int, person: np.ndarray, day: int, salt: int) -> np.ndarray:
    """Uniforms in [0, 1) keyed by (seed, person, day, salt): a person's own stream.

    A counter-based generator (SplitMix64 finaliser over the key), so the value
    a person draws on a day does not depend on what anyone else drew: the
    factual and the counterfactual run give never-enrolled people the same
    numbers, and an enrolled person the same numbers until their paths part.
    """
    key = np.asarray(person, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    key ^= np.uint64((seed * 1_000_003 + salt) & 0xFFFFFFFFFFFFFFFF)
    key += np.uint64(((day + 2**31) & 0xFFFFFFFF) * 0xD1B54A32D192ED03 % 2**64)
    key ^= key >> np.uint64(30)
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(27)
    key *= np.uint64(0x94D049BB133111EB)
    key ^= key >> np.uint64(31)
    return np.asarray((key >> np.uint64(11)).astype(np.float64) / 2.0**53)


def _length_of_stay(
    age: np.ndarray, frailty: np.ndarray, seed: int, person: np.ndarray, day: int
) -> np.ndarray:
    """Bed days of emergency spells (0 = same-day discharge).

    Drawn from each person's own random numbers for the day.
    """
    u1 = person_uniform(seed, person, day, 1)
    u2 = np.maximum(person_uniform(seed, person, day, 2), 1e-300)
    u3 = person_uniform(seed, person, day, 3)
    normal = np.sqrt(-2 * np.log(u2)) * np.cos(2 * np.pi * u3)
    same_day = u1 < np.clip(0.42 - 0.004 * np.maximum(age - 20, 0), 0.08, 1)
    mean = np.exp(0.6 + 0.028 * np.maximum(age - 40, 0) + 0.3 * frailty)
    los = np.floor(mean * np.exp(0.9 * normal - 0.405)) + 1
    los = np.where(same_day, 0, np.clip(los, 1, 150))
    return los.astype(np.int32)


@dataclass(frozen=True)
class RunProgramme:
    """A :class:`Programme` with its start as a day index."""

    start_day: int
    hazard_ratio: float
    uptake: float
    min_age: int
    review_every_days: int
    nominations: bool
    nomination_window_days: int
    frailty_selection: float
    frailty_sd: float
    rescreen_days: int
    effect_delay_days: int
    effect_spread: float


def streams(random_state: int) -> dict[str, np.random.Generator]:
    """Independent random streams of one population (fixed order of spawning)."""
    # New streams go at the end: spawning keeps the earlier ones unchanged.
    names = ("init", "daily", "los", "programme", "assemble", "acute")
    seqs = np.random.SeedSequence(random_state).spawn(len(names))
    return {k: np.random.default_rng(s) for k, s in zip(names, seqs, strict=True)}


def run(
    n: int,
    days: int,
    params: SynthParams,
    random_state: int,
    programme: RunProgramme | None = None,
    record: bool = True,
    stop: int | None = None,
) -> tuple[People, Events, dict[str, np.random.Generator]]:
    """Simulate ``n`` people from the warm-up's first day to ``stop - 1``.

    ``days`` is the length of the shown period (it sets when people register);
    ``stop`` (default ``days``) is where this run ends.
    """
    rngs = streams(random_state)
    people = init_people(n, days, params, rngs["init"])
    events = Events() if record else None
    for t in range(-int(params.warmup_days), days if stop is None else stop):
        if t == 0:
            people.residence0 = people.residence.copy()
        step(
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
    return people, events if events is not None else Events(), rngs
