"""One frozen settings object for stratification, caseloads and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CASELOAD_RANGE", "RESERVE_RANGE", "TIERS", "StratifySettings"]

#: Patients per full-time case manager a localities file may give (inclusive).
CASELOAD_RANGE = (20, 100)
#: Share of capacity a locality may keep in reserve (inclusive).
RESERVE_RANGE = (0.0, 0.5)

#: Kaiser tiers, highest first.
TIERS = ("case_management", "disease_management", "supported_self_care")


def _check_share(name: str, value: float, *, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"The `{name}` parameter of StratifySettings must be a number. "
            f"Got {value!r} instead."
        )
    if not lo <= value <= hi:
        raise ValueError(
            f"The `{name}` parameter of StratifySettings must be in [{lo}, {hi}]. "
            f"Got {value!r} instead."
        )


def _check_int(name: str, value: int, *, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(
            f"The `{name}` parameter of StratifySettings must be an int >= {lo}. "
            f"Got {value!r} instead."
        )


@dataclass(frozen=True, kw_only=True)
class StratifySettings:
    """Every choice of the stratify and alerts stages, in one frozen object.

    Parameters
    ----------
    min_age : int, default=65
        Eligibility: people aged ``min_age`` or over on ``as_of`` (seed 003: "Only
        patients of 65 years of age and over should be included").
    cut_by : {"percentile", "probability"}, default="percentile"
        How the tier cut points are read: as shares of the eligible population
        ranked by risk, or as calibrated probabilities.
    case_management_cut : float, default=0.95
        With ``cut_by="percentile"``: people at or above this percentile of risk
        are in the case-management tier (0.95 = the top 5 %, seed 003 says 3-5 %).
        With ``"probability"``: a risk at or above this probability.
    disease_management_cut : float, default=0.70
        The cut between disease management and supported self-care (0.70 = the
        bottom 70 % are supported self-care, as the seed says), read the same way.
    priority : {"risk", "rules", "expected_bed_days"}, default="risk"
        Order of the lists: by risk; by the seed's rule order (``essex_priority``
        1-5, ties by risk; people who meet no rule come after, by risk); or by
        the ``expected_bed_days`` column of the scores table (ties by risk).
    nominations_first : bool, default=True
        Clinician nominations (``rule_nomination``) go to the head of the list so
        that they are screened first. Set False, with ``priority="rules"``, to
        reproduce the seed's order exactly (there nominations are rule 5).
    relist_after_days : int, default=180
        A person who declined or was judged unsuitable at screening is not listed
        again for this many days after the screening, unless a trigger event
        happened after it.
    caseload_per_fte : int, default=50
        Patients per full-time case manager when the localities file leaves it
        empty (seed 003: 50-80; seed 001: 30-40).
    reserve_share : float, default=0.15
        Share of each locality's capacity kept free for people who become
        eligible between runs, when the localities file leaves it empty.
    risk_bands : tuple of float, default=(0.01, 0.05, 0.10, 0.30)
        Top shares of the eligible population that name a person's risk band
        ("top 1 %", "top 5 %", ...; the rest are "below top 30 %").
    risk_rise : float, default=0.10
        Alerts: a rise in risk (absolute probability) above this raises an alert.
    polypharmacy_threshold : int, default=5
        Alerts: crossing this number of distinct drugs in 90 days is a trigger.
    step_down_runs : int, default=3
        Alerts: an enrolled person below the case-management cut for this many
        consecutive runs gets a step-down suggestion (never a discharge).

    Examples
    --------
    >>> StratifySettings().priority
    'risk'
    >>> StratifySettings(reserve_share=0.7)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The `reserve_share` ... must be in [0.0, 0.5]. Got 0.7 instead.
    """

    min_age: int = 65
    cut_by: Literal["percentile", "probability"] = "percentile"
    case_management_cut: float = 0.95
    disease_management_cut: float = 0.70
    priority: Literal["risk", "rules", "expected_bed_days"] = "risk"
    nominations_first: bool = True
    relist_after_days: int = 180
    caseload_per_fte: int = 50
    reserve_share: float = 0.15
    risk_bands: tuple[float, ...] = (0.01, 0.05, 0.10, 0.30)
    risk_rise: float = 0.10
    polypharmacy_threshold: int = 5
    step_down_runs: int = 3

    def __post_init__(self) -> None:
        _check_int("min_age", self.min_age, lo=0)
        if self.cut_by not in ("percentile", "probability"):
            raise ValueError(
                "The `cut_by` parameter of StratifySettings must be 'percentile' "
                f"or 'probability'. Got {self.cut_by!r} instead."
            )
        _check_share("case_management_cut", self.case_management_cut, lo=0.0, hi=1.0)
        _check_share(
            "disease_management_cut", self.disease_management_cut, lo=0.0, hi=1.0
        )
        if self.disease_management_cut > self.case_management_cut:
            raise ValueError(
                "The `disease_management_cut` of StratifySettings must not be above "
                f"`case_management_cut`. Got {self.disease_management_cut!r} > "
                f"{self.case_management_cut!r}."
            )
        if self.priority not in ("risk", "rules", "expected_bed_days"):
            raise ValueError(
                "The `priority` parameter of StratifySettings must be one of 'risk', "
                f"'rules', 'expected_bed_days'. Got {self.priority!r} instead."
            )
        _check_int("relist_after_days", self.relist_after_days, lo=0)
        _check_int("caseload_per_fte", self.caseload_per_fte, lo=CASELOAD_RANGE[0])
        if self.caseload_per_fte > CASELOAD_RANGE[1]:
            raise ValueError(
                "The `caseload_per_fte` parameter of StratifySettings must be at "
                f"most {CASELOAD_RANGE[1]}. Got {self.caseload_per_fte!r} instead."
            )
        _check_share("reserve_share", self.reserve_share, lo=0.0, hi=0.5)
        bands = tuple(self.risk_bands)
        if (
            not bands
            or any(not 0 < b < 1 for b in bands)
            or list(bands) != sorted(set(bands))
        ):
            raise ValueError(
                "The `risk_bands` parameter of StratifySettings must be increasing "
                f"shares in (0, 1). Got {self.risk_bands!r} instead."
            )
        _check_share("risk_rise", self.risk_rise, lo=0.0, hi=1.0)
        _check_int("polypharmacy_threshold", self.polypharmacy_threshold, lo=1)
        _check_int("step_down_runs", self.step_down_runs, lo=1)
