"""Settings of the synthetic population: the programme and the hazard parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

__all__ = ["Programme", "SynthParams"]


@dataclass(frozen=True, kw_only=True)
class Programme:
    """A case-management programme with a known effect on emergency admissions.

    From ``start`` on, every ``review_every_days`` the programme looks at living,
    registered people aged ``min_age`` or over who are not yet enrolled and who
    meet ``rule``; each of them enrols with probability ``uptake`` (so comparable
    people who were not enrolled exist, as in real life). While enrolled, a
    person's daily emergency-admission hazard is multiplied by ``hazard_ratio``.
    Enrolment lasts until death or deregistration.

    Parameters
    ----------
    start : datetime.date
        First review date.
    hazard_ratio : float, default=0.8
        Multiplier of the emergency-admission hazard while enrolled (the true
        effect). ``1.0`` means no effect.
    uptake : float, default=0.5
        Probability that an eligible person enrols at a review.
    rule : {"two_emergency_admissions"}, default="two_emergency_admissions"
        Who is eligible: 2+ emergency admissions in the 365 days before the review.
    min_age : int, default=65
        Minimum age at the review.
    review_every_days : int, default=28
        Days between reviews.
    """

    start: dt.date
    hazard_ratio: float = 0.8
    uptake: float = 0.5
    rule: Literal["two_emergency_admissions"] = "two_emergency_admissions"
    min_age: int = 65
    review_every_days: int = 28

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
        if self.review_every_days < 1:
            raise ValueError(
                "The `review_every_days` parameter of Programme must be an int "
                f">= 1. Got {self.review_every_days!r} instead."
            )


@dataclass(frozen=True, kw_only=True)
class SynthParams:
    """Hazard parameters of the generator (defaults reproduce NHS-like figures).

    All rates are per year unless named ``_days``. Frailty is
    ``f = u + x + frailty_age_slope * max(age - 60, 0)``: ``u`` is a person's
    persistent frailty (sd ``frailty_persistent_sd``), ``x`` a mean-reverting
    Ornstein-Uhlenbeck part (stationary sd ``frailty_transient_sd``, mean
    reversion time ``frailty_reversion_days``) updated weekly.

    The population is open: ``registration_rate`` is the yearly in-flow of new
    registrations as a share of the people simulated (``newborn_share`` of them
    at birth, the rest movers of any age), and people leave by death and by
    deregistration. The simulation starts ``warmup_days`` before the first
    date the tables show, so rates do not drift from that date on.
    """

    emergency_base_rate: float = 0.022
    emergency_age_slope: float = 0.036
    emergency_frailty_coef: float = 0.85
    emergency_male_log_hr: float = 0.05
    emergency_deprivation_log_hr: float = 0.06
    care_home_log_hr: float = 0.3
    winter_amplitude: float = 0.12
    post_discharge_boost: float = 12.0
    post_discharge_days: float = 25.0
    frailty_persistent_sd: float = 0.55
    frailty_transient_sd: float = 0.65
    frailty_reversion_days: float = 120.0
    frailty_age_slope: float = 0.035
    ltc_frailty_loading: float = 1.2
    death_gompertz_intercept: float = -11.7
    death_gompertz_slope: float = 0.092
    death_frailty_coef: float = 0.6
    death_in_hospital_hr: float = 25.0
    survivor_log_scale: float = 0.7
    survivor_frailty_coef: float = 1.0
    care_home_intercept: float = -18.7
    care_home_init_intercept: float = -16.7
    care_home_age_slope: float = 0.16
    care_home_frailty_coef: float = 0.8
    care_home_post_discharge_boost: float = 6.0
    deregistration_rate_young: float = 0.04
    deregistration_rate_old: float = 0.01
    registration_rate: float = 0.04
    newborn_share: float = 0.25
    warmup_days: int = 735
    nomination_rate: float = 0.004
    elective_base_rate: float = 0.04
    out_of_hours_share: float = 0.5
    acute_base_rate: float = 1.0
    acute_frailty_coef: float = 1.5
