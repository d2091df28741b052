"""``ImpactSettings``: every choice of the impact evaluation, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ImpactSettings"]


def _check_int(name: str, value: object, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(
            f"The `{name}` parameter of ImpactSettings must be an int >= {lo}. "
            f"Got {value!r} instead."
        )


@dataclass(frozen=True, kw_only=True)
class ImpactSettings:
    """How enrolled people are matched, followed and compared.

    Parameters
    ----------
    score : {"prognostic", "propensity", "model"}, default="prognostic"
        What people are matched on (besides the exact strata):
        ``"prognostic"``, the risk of an emergency admission (or their
        expected number: ``prognostic_target``) in the next ``post_days``
        from a LightGBM model fitted within the run on people not enrolled,
        on the year before the first evaluated enrolment (so no outcome
        after any evaluated enrolment is used to build it);
        ``"propensity"``, the probability of enrolling on that date (penalised
        logistic regression on the enrolled and the candidates of every
        enrolment date); ``"model"``,
        the registered model named by ``model``.
    prognostic_target : {"any_admission", "admissions"}, default="any_admission"
        What the prognostic score predicts: the risk of any emergency
        admission in the next ``post_days`` (LightGBM, binary), or the number
        of them (LightGBM, Poisson loss; the after-period rate the difference
        in differences compares). A risk of any saturates for people with a
        bad year, but on the benchmark the count did not lower the bias and
        made the estimate noisier (decision 0016), so it is not the default.
    model : str, optional
        ``NAME@ALIAS`` or ``NAME/VERSION`` of a registered model; sets
        ``score="model"``.
    tracking_uri : str, optional
        MLflow store of ``model``.
    n_controls : int, default=5
        Controls per enrolled person (matching with replacement).
    caliper_sd : float, default=1.0
        Largest distance between the logits of the scores of an enrolled
        person and a control, in pooled standard deviations of the logit (of
        the enrolled and all candidates). The exact strata do most of the
        matching; at the usual 0.2 about half the enrolled of a 20,000-person
        population find no control (decision 0016).
    exact_prior_admissions : bool, default=True
        Also match exactly on emergency admissions in the 365 days before the
        date (0, 1, 2, 3+), so the enrolled and their controls had the same
        bad year (regression to the mean then affects both alike).
    match_covariates : tuple of str, default=("em_admissions_3m", \
"days_since_last_em_admission", "male")
        Columns added to the matching distance (each in standard deviations):
        within the caliper, candidates are ranked by the Euclidean distance
        over the score's logit (in its own units) and these. The default adds
        how recent the bad year was (the enrolled are referred soon after
        their second admission, and a control whose admissions were months
        ago has already regressed to the mean) and sex (not an exact stratum
        by default: ``exact_on``). Besides feature columns, ``male``,
        ``discharged_30d``, ``discharged_91d``, ``log_days_since_discharge``,
        ``in_hospital_now`` (derived from ``days_since_last_discharge`` and
        ``in_hospital``), ``log_days_since_eligible`` and
        ``log_days_since_nominated`` (the referral clocks) can be used; on the
        benchmark none of them lowered the bias (decision 0016).
    bias_correction : tuple of str
        Default: recency (admissions in 3 months, days since the last), last
        year's and two years' admissions and bed days, drugs, Charlson score,
        age, care home. Columns of a regression adjustment of the controls'
        rates for what matching left unequal (Abadie and Imbens 2011): a
        person-time weighted ridge fit of the matched controls' rate on them
        (penalty by leave-one-out error, decision 0022), per period and
        outcome, moves each set's control rate to the
        enrolled person's covariates; with ``interval="rematch"`` it is
        refitted in every bootstrap replicate. Empty: none. Not applied to the
        placebo. A rare binary column (e.g. ``in_hospital_now``) makes the fit
        unstable: the re-matching bootstrap showed intervals of ±40 bed days
        with it.
    exact_recency_days : tuple of int, default=()
        Also match exactly on how recently the person left hospital: in
        hospital on the date, discharged within each bound (e.g. 30, 91, 365
        days), or longer ago (never). Off by default: on a 20,000-person
        population ``(30, 91, 365)`` left three quarters of the enrolled
        without a control (decision 0016).
    exact_on : tuple of {"sex", "locality"}, default=()
        Matched exactly besides the age band and the strata below. By default
        neither: at 20,000 people exact sex and locality left a third of the
        enrolled without a control and most of the rest with one or two
        (decision 0016); sex is in the distance (``match_covariates``), and
        a population large enough can add ``("sex", "locality")``.
    exact_referral_days : int or None, default=56
        Also match exactly on whether the person became referable — met the
        rule of 2+ emergency admissions in 365 days, or was nominated —
        within this many days, earlier, or is not referable on the date (the
        referral clocks, from events before it). The enrolled are referred
        when they newly meet a rule; someone who met it months ago and was
        not enrolled (screened then and declined) has had time to regress to
        the mean. ``None``: not matched on.
    exact_nominated : bool, default=False
        Also match exactly on a clinician nomination in the last year (the
        other route into case management the records show).
    pre_days, post_days : int, default=365
        Outcome windows ``[date - pre_days, date)`` and
        ``[date, date + post_days)``.
    pre_gap_days : int, default=0
        Days between the end of the "before" window and the date: the before
        window is ``[date - pre_gap_days - pre_days, date - pre_gap_days)``.
        ``0`` compares the year after with the selection year itself (on which
        people are matched); ``365`` with the year before it, so a stable hidden
        difference could show in both windows. The naive before/after always
        uses the selection year. On the benchmark ``365`` did not remove the
        bias (decision 0016), so the default stays ``0``.
    min_follow_up_days : int, optional
        Enrolled people need ``enrol_date + min_follow_up_days <= as_of``
        (default ``post_days``: a full post window is observable).
    placebo_shift_days : int, default=365
        The placebo moves both windows this many days earlier, keeping the
        matched sets (a pseudo-enrolment a year before the real one).
    n_bootstraps : int, default=1000
        Bootstrap replicates for the confidence intervals (see ``interval``).
    random_state : int, default=0
        Seed of the score model and the bootstrap.
    interval : {"rematch", "two-sample", "sets"}, default="rematch"
        How the bootstrap resamples: ``"rematch"``, the enrolled and,
        independently, the control pool as people, matching again and
        refitting the regression adjustment in every replicate (so the
        interval carries the uncertainty of who is matched and of the
        adjustment); ``"two-sample"``, the enrolled (with their set's fixed
        regression adjustment) and the matched controls as people, each
        carrying their total weight over every set they serve; ``"sets"``,
        the matched sets (an enrolled person with their controls), which is
        too narrow with matching with replacement (Abadie and Imbens 2008).
        The naive before/after always resamples the enrolled alone. See
        decision 0016.
    controls : {"auto", "not_enrolled", "declined"}, default="auto"
        Who can be a control on an enrolment date: ``"declined"``, only people
        whose screening was declined (or found unsuitable) in the
        ``declined_within_days`` days up to and including that date — the same
        review's decliners, referred the same way and at the same time (needs a
        ``screenings`` table); ``"not_enrolled"``, anyone on the list not
        enrolled by then; ``"auto"``, declined when the input has screening
        decisions of declined or unsuitable, else not enrolled. On the
        benchmark (50 seeds) decliners took the bias from +0.14 to +0.03
        admissions a person-year (docs/evaluation.md, fifth pass). The result's
        ``settings`` say which was used.
    declined_within_days : int, default=28
        See ``controls`` (the synthetic programme reviews every 28 days).
    later_enrolment : {"censor", "keep"}, default="censor"
        What happens to a control who enrols after the matching date:
        ``"censor"`` ends their person-time the day they enrol; ``"keep"``
        keeps counting (an intention-to-treat comparison of "enrol now" with
        "not now").

    Examples
    --------
    >>> ImpactSettings(n_controls=3).n_controls
    3
    >>> ImpactSettings(model="risk@champion").score
    'model'
    >>> ImpactSettings(caliper_sd=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The `caliper_sd` parameter of ImpactSettings must be > 0. Got 0 ...
    """

    score: Literal["prognostic", "propensity", "model"] = "prognostic"
    prognostic_target: Literal["admissions", "any_admission"] = "any_admission"
    model: str | None = None
    tracking_uri: str | None = None
    n_controls: int = 5
    caliper_sd: float = 1.0
    exact_prior_admissions: bool = True
    exact_on: tuple[str, ...] = ()
    exact_referral_days: int | None = 56
    exact_nominated: bool = False
    exact_recency_days: tuple[int, ...] = ()
    bias_correction: tuple[str, ...] = (
        "em_admissions_3m",
        "days_since_last_em_admission",
        "em_admissions_12m",
        "em_bed_days_12m",
        "em_admissions_24m",
        "drugs_90d",
        "cci_score",
        "age",
        "care_home",
    )
    match_covariates: tuple[str, ...] = (
        "em_admissions_3m",
        "days_since_last_em_admission",
        "male",
    )
    pre_days: int = 365
    pre_gap_days: int = 0
    post_days: int = 365
    min_follow_up_days: int | None = None
    placebo_shift_days: int = 365
    n_bootstraps: int = 1000
    random_state: int = 0
    later_enrolment: Literal["censor", "keep"] = "censor"
    controls: Literal["auto", "not_enrolled", "declined"] = "auto"
    declined_within_days: int = 28
    interval: Literal["sets", "two-sample", "rematch"] = "rematch"

    def __post_init__(self) -> None:
        if self.model is not None and self.score != "model":
            object.__setattr__(self, "score", "model")
        if self.score not in ("prognostic", "propensity", "model"):
            raise ValueError(
                "The `score` parameter of ImpactSettings must be 'prognostic', "
                f"'propensity' or 'model'. Got {self.score!r} instead."
            )
        if self.prognostic_target not in ("admissions", "any_admission"):
            raise ValueError(
                "The `prognostic_target` parameter of ImpactSettings must be "
                f"'admissions' or 'any_admission'. Got {self.prognostic_target!r} "
                "instead."
            )
        if self.score == "model" and not self.model:
            raise ValueError(
                "ImpactSettings(score='model') needs `model` (NAME@ALIAS)."
            )
        _check_int("n_controls", self.n_controls, 1)
        for name in ("pre_days", "post_days", "placebo_shift_days"):
            _check_int(name, getattr(self, name), 1)
        _check_int("pre_gap_days", self.pre_gap_days, 0)
        if self.min_follow_up_days is not None:
            _check_int("min_follow_up_days", self.min_follow_up_days, 1)
        _check_int("n_bootstraps", self.n_bootstraps, 0)
        _check_int("random_state", self.random_state, 0)
        if isinstance(self.caliper_sd, bool) or not (
            isinstance(self.caliper_sd, int | float) and self.caliper_sd > 0
        ):
            raise ValueError(
                "The `caliper_sd` parameter of ImpactSettings must be > 0. "
                f"Got {self.caliper_sd!r} instead."
            )
        if self.interval not in ("sets", "two-sample", "rematch"):
            raise ValueError(
                "The `interval` parameter of ImpactSettings must be 'sets', "
                f"'two-sample' or 'rematch'. Got {self.interval!r} instead."
            )
        unknown = set(self.exact_on) - {"sex", "locality"}
        if unknown or len(set(self.exact_on)) != len(self.exact_on):
            raise ValueError(
                "The `exact_on` parameter of ImpactSettings must name 'sex' and/or "
                f"'locality' once each. Got {self.exact_on!r} instead."
            )
        if self.exact_referral_days is not None:
            _check_int("exact_referral_days", self.exact_referral_days, 1)
        for bound in self.exact_recency_days:
            _check_int("exact_recency_days", bound, 1)
        if self.controls not in ("auto", "not_enrolled", "declined"):
            raise ValueError(
                "The `controls` parameter of ImpactSettings must be 'auto', "
                f"'not_enrolled' or 'declined'. Got {self.controls!r} instead."
            )
        _check_int("declined_within_days", self.declined_within_days, 1)
        if self.later_enrolment not in ("censor", "keep"):
            raise ValueError(
                "The `later_enrolment` parameter of ImpactSettings must be "
                f"'censor' or 'keep'. Got {self.later_enrolment!r} instead."
            )

    @property
    def follow_up_days(self) -> int:
        """Days of follow-up an enrolled person needs before ``as_of``."""
        return (
            self.post_days
            if self.min_follow_up_days is None
            else (self.min_follow_up_days)
        )
