"""Settings of the synthetic population: the programme and the hazard parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

__all__ = ["Programme", "SynthParams"]


@dataclass(frozen=True, kw_only=True)
class Programme:
    """A case-management programme whose true effect is known person by person.

    From ``start`` on, every ``review_every_days`` the programme screens living,
    registered people aged ``min_age`` or over who are not enrolled, who were
    not screened in the last ``rescreen_days``, and who are referred: they meet
    ``rule``, or (with ``nominations``) a clinician nominated them in the last
    ``nomination_window_days``. A screened person enrols with probability
    ``logistic(logit(uptake) + frailty_selection * z)``, ``z`` their hidden
    *persistent* frailty in standard deviations — as real case finding picks
    the people who look worse than their record shows. Whoever declines is not
    screened again for ``rescreen_days``, so many referred people never enrol.

    Each enrolled person ``i`` has their own effect: from ``effect_delay_days``
    after enrolment their daily emergency-admission hazard is multiplied by
    ``hazard_ratio ** m_i``, ``m_i`` a gamma variable with mean 1 and
    coefficient of variation ``effect_spread``. Enrolment lasts until death or
    deregistration. The truth is the counterfactual: the same people re-run
    with the same random numbers and no programme
    (:attr:`SyntheticPopulation.counterfactual`).

    Parameters
    ----------
    start : datetime.date
        First review date.
    hazard_ratio : float, default=0.8
        Typical multiplier of the emergency-admission hazard once the effect has
        started. ``1.0`` means no effect for anyone.
    uptake : float, default=0.5
        Probability that a screened person of average persistent frailty enrols.
    rule : {"two_emergency_admissions"}, default="two_emergency_admissions"
        Who is referred: 2+ emergency admissions in the 365 days before the review.
    min_age : int, default=65
        Minimum age at the review.
    review_every_days : int, default=28
        Days between reviews.
    nominations : bool, default=True
        Whether clinician nominations refer people too.
    nomination_window_days : int, default=90
        How recent a nomination must be to refer.
    frailty_selection : float, default=0.5
        Log-odds of enrolling per standard deviation of hidden persistent frailty.
    rescreen_days : int, default=365
        Days before someone screened and not enrolled can be screened again.
    effect_delay_days : int, default=60
        Days from enrolment before the effect starts.
    effect_spread : float, default=0.5
        Coefficient of variation of the person's effect multiplier (0: the same
        effect for all).

    Examples
    --------
    >>> import datetime as dt
    >>> Programme(start=dt.date(2021, 4, 1), hazard_ratio=0.7).uptake
    0.5
    """

    start: dt.date
    hazard_ratio: float = 0.8
    uptake: float = 0.5
    rule: Literal["two_emergency_admissions"] = "two_emergency_admissions"
    min_age: int = 65
    review_every_days: int = 28
    nominations: bool = True
    nomination_window_days: int = 90
    frailty_selection: float = 0.5
    rescreen_days: int = 365
    effect_delay_days: int = 60
    effect_spread: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.start, dt.date):
            raise TypeError(
                "The `start` parameter of Programme must be a datetime.date. "
                f"Got {self.start!r} instead."
            )
        if not 0 < self.hazard_ratio <= 5:
            raise ValueError(
                "The `hazard_ratio` parameter of Programme must be in (0, 5]. "
                f"Got {self.hazard_ratio!r} instead."
            )
        if not 0 < self.uptake <= 1:
            raise ValueError(
                "The `uptake` parameter of Programme must be in (0, 1]. "
                f"Got {self.uptake!r} instead."
            )
        if self.rule != "two_emergency_admissions":
            raise ValueError(
                "The `rule` parameter of Programme must be "
                f"'two_emergency_admissions'. Got {self.rule!r} instead."
            )
        for name in (
            "review_every_days",
            "nomination_window_days",
            "rescreen_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"The `{name}` parameter of Programme must be an int >= 1. "
                    f"Got {value!r} instead."
                )
        if not isinstance(self.effect_delay_days, int) or self.effect_delay_days < 0:
            raise ValueError(
                "The `effect_delay_days` parameter of Programme must be an int "
                f">= 0. Got {self.effect_delay_days!r} instead."
            )
        if not 0 <= self.effect_spread <= 3:
            raise ValueError(
                "The `effect_spread` parameter of Programme must be in [0, 3]. "
                f"Got {self.effect_spread!r} instead."
            )
        if not -5 <= self.frailty_selection <= 5:
            raise ValueError(
                "The `frailty_selection` parameter of Programme must be in "
                f"[-5, 5]. Got {self.frailty_selection!r} instead."
            )


@dataclass(frozen=True, kw_only=True)
class SynthParams:
    """Hazard parameters of the generator (defaults reproduce NHS-like figures).

    All rates are per year unless named ``_days``. Frailty is
    ``f = u + x + frailty_age_slope * max(age - 60, 0)``: ``u`` is a person's
    persistent frailty (sd ``frailty_persistent_sd``), ``x`` a mean-reverting
    Ornstein-Uhlenbeck part (stationary sd ``frailty_transient_sd``, mean
    reversion time ``frailty_reversion_days``) updated weekly.

    What a model can and cannot see is set here, not tuned to a target: the
    emergency hazard has a frailty-by-age interaction
    (``frailty_age_interaction`` per unit of frailty per decade past 65), pairs
    of conditions that matter together (heart failure with chronic kidney
    disease, COPD with heart failure: ``ltc_pair_log_hr`` on top of each), and
    a practice effect (log-normal, sd ``practice_log_hr_sd``); the records
    miss things — the deprivation decile of ``deprivation_missing_share`` of
    people, the frail-elderly code of ``frail_code_unspecified_share`` of those
    admissions (recorded as R69X, illness unspecified), a quarter of
    comorbidity codes on each spell, 7 % of repeat issues.

    The population is open: ``registration_rate`` is the yearly in-flow of new
    registrations as a share of the people simulated (``newborn_share`` of them
    at birth, the rest movers of any age), and people leave by death and by
    deregistration. The simulation starts ``warmup_days`` before the first
    date the tables show, so rates do not drift from that date on.

    Deaths follow a Gompertz hazard in age with conditions and frailty, times
    ``death_in_hospital_hr`` while in hospital; outside hospital a care-home
    resident's hazard is times ``exp(care_home_death_log_hr)`` (residents die in
    the home rather than admitted, so the share of deaths in hospital does not
    rise with age). Care-home prevalence when people enter the simulation is
    logistic in age (``care_home_init_intercept``, ``care_home_init_age_slope``)
    and frailty, fitted to the prevalence the moves reach in steady state. The
    defaults are fitted to published base rates (decision 0021).
    """

    emergency_base_rate: float = 0.028
    emergency_age_slope: float = 0.012
    emergency_frailty_coef: float = 1.1
    emergency_male_log_hr: float = 0.05
    emergency_deprivation_log_hr: float = 0.06
    frailty_age_interaction: float = 0.2
    ltc_pair_log_hr: float = 0.4
    practice_log_hr_sd: float = 0.15
    care_home_log_hr: float = 0.3
    winter_amplitude: float = 0.12
    post_discharge_boost: float = 12.0
    post_discharge_days: float = 25.0
    frailty_persistent_sd: float = 0.55
    frailty_transient_sd: float = 0.65
    frailty_reversion_days: float = 120.0
    frailty_age_slope: float = 0.035
    ltc_frailty_loading: float = 1.2
    death_gompertz_intercept: float = -10.35
    death_gompertz_slope: float = 0.07
    death_frailty_coef: float = 0.6
    death_in_hospital_hr: float = 40.0
    care_home_death_log_hr: float = 2.3
    survivor_log_scale: float = 0.7
    survivor_frailty_coef: float = 1.6
    care_home_intercept: float = -20.5
    care_home_init_intercept: float = -18.5
    care_home_age_slope: float = 0.19
    care_home_init_age_slope: float = 0.18
    care_home_frailty_coef: float = 0.8
    care_home_post_discharge_boost: float = 6.0
    deregistration_rate_young: float = 0.04
    deregistration_rate_old: float = 0.01
    registration_rate: float = 0.04
    newborn_share: float = 0.25
    warmup_days: int = 735
    nomination_rate: float = 0.02
    elective_base_rate: float = 0.04
    out_of_hours_share: float = 0.5
    acute_base_rate: float = 1.0
    acute_frailty_coef: float = 1.5
    deprivation_missing_share: float = 0.03
    frail_code_unspecified_share: float = 0.1
