"""``estimate_effect``: matched controls and a difference in differences."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat._utils import check_date
from riskstrat.features import FeatureSpec, build_features
from riskstrat.impact._adjust import fit_adjustment
from riskstrat.impact._did import COLUMNS, bootstrap, bootstrap_two_sample, did
from riskstrat.impact._matching import logit, match, strata
from riskstrat.impact._person_time import window_outcomes
from riskstrat.impact._referral import ReferralHistory
from riskstrat.impact._rematch import Pool, rematch_bootstrap
from riskstrat.impact._result import OUTCOMES, ImpactResult
from riskstrat.impact._scores import (
    fit_prognostic,
    fit_propensity,
    registered,
    score_frame,
)
from riskstrat.impact._sensitivity import e_value
from riskstrat.impact._settings import ImpactSettings
from riskstrat.sources import open_tables

__all__ = ["estimate_effect", "first_enrolments"]

logger = logging.getLogger(__name__)

#: Each enrolled person's ranked list of candidates for the bootstrap that
#: matches again holds ``POOL_FACTOR * n_controls`` of them (a replicate draws
#: about 63 % of the candidates, so the ``k`` drawn nearest are almost always
#: within the list).
POOL_FACTOR = 6

#: Variables of the balance table (feature columns), besides the score.
BALANCE = (
    "em_admissions_3m",
    "days_since_last_em_admission",
    "age",
    "male",
    "em_admissions_12m",
    "em_bed_days_12m",
    "em_admissions_24m",
    "em_bed_days_24m",
    "cci_score",
    "drugs_90d",
    "care_home",
    "deprivation_decile",
    "log_days_since_eligible",
    "log_days_since_nominated",
)


def first_enrolments(tables) -> dict[str, dt.date]:
    """Each person's first enrolment date.

    Raises
    ------
    ValueError
        The input has no enrolments table, or it is empty.
    """
    if "enrolments" in tables.absent:
        raise ValueError(
            "the input has no enrolments table, so nobody is known to be case "
            "managed and there is nothing to evaluate. Add enrolments.csv "
            "(patient_id, enrol_date, end_date, locality)."
        )
    e = tables.enrolments
    if e.num_rows == 0:
        raise ValueError(
            "the enrolments table is empty: nobody was case managed, so there is "
            "nothing to evaluate."
        )
    g = e.group_by("patient_id").aggregate([("enrol_date", "min")])
    return dict(
        zip(g["patient_id"].to_pylist(), g["enrol_date_min"].to_pylist(), strict=True)
    )


def _declined(tables, dates, settings) -> dict[dt.date, list] | None:
    """People declined (or unsuitable) at screening in the window up to each date.

    None when the controls are people not enrolled (``settings.controls``
    ``"not_enrolled"``, or ``"auto"`` without screening decisions of declined
    or unsuitable).
    """
    if settings.controls == "not_enrolled":
        return None
    s = tables.screenings
    has = "screenings" not in tables.absent and s.num_rows > 0
    if has:
        s = s.to_pandas()
        s = s[s["outcome"].isin(["declined", "unsuitable"])]
        has = not s.empty
    if not has:
        if settings.controls == "auto":
            return None
        raise ValueError(
            "controls='declined' needs the screenings table (patient_id, date, "
            "outcome) with people who declined: the input has no such screening "
            "decisions. Use controls='not_enrolled' or add screenings.csv."
        )
    when = pd.to_datetime(s["date"])
    window = pd.Timedelta(days=settings.declined_within_days)
    out = {}
    for day in dates:
        d = pd.Timestamp(day)
        out[day] = sorted(set(s.loc[(when > d - window) & (when <= d), "patient_id"]))
    return out


def _data_end(tables, as_of: dt.date) -> dt.date:
    extract = getattr(tables, "extract_date", None)
    return as_of if extract is None else min(as_of, extract)


def _frame(features: pa.Table, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Matching frame: identifiers, balance and extra columns, recency terms.

    ``days_since_last_discharge`` (null: never discharged, taken as 3,650
    days) gives ``discharged_30d``, ``discharged_91d``, their logarithm
    ``log_days_since_discharge``, and ``in_hospital_now`` (unknown: not).
    The risk of readmission is highest in the weeks after a discharge and
    falls steeply, which a linear term in days cannot follow.
    """
    cols = [
        c
        for c in features.column_names
        if c
        in {
            "patient_id",
            *BALANCE,
            *extra,
            "sex",
            "locality",
            "days_since_last_discharge",
            "in_hospital",
            "nominated_12m",
        }
    ]
    f = features.select(cols).to_pandas()
    f["male"] = (f["sex"] == "male").astype(float).where(f["sex"].notna())
    days = pd.Series(
        _capped_days(
            pd.to_numeric(
                f.get("days_since_last_discharge", pd.Series(np.nan, index=f.index)),
                errors="coerce",
            ).to_numpy(dtype=float)
        ),
        index=f.index,
    )
    f["discharged_30d"] = (days <= 30).astype(float)
    f["discharged_91d"] = (days <= 91).astype(float)
    f["log_days_since_discharge"] = np.log1p(days)
    hosp = f.get("in_hospital", pd.Series(False, index=f.index))
    f["in_hospital_now"] = hosp.astype("boolean").fillna(False).astype(float)
    return f


def _capped_days(days: np.ndarray) -> np.ndarray:
    """Days since an event, null (never) as 3,650 and kept within [0, 3650]."""
    return np.clip(np.nan_to_num(days, nan=3650.0), 0, 3650)


def _with_referral(f: pd.DataFrame, clocks: pd.DataFrame) -> pd.DataFrame:
    """Add the referral clocks and their logarithms (never: 3,650 days).

    ``log_days_since_eligible`` and ``log_days_since_nominated`` can be named
    in ``match_covariates`` and ``bias_correction``; the raw days (null:
    not eligible on the date, or never nominated) go to the balance table.
    """
    f = f.copy()
    for col in ("days_since_eligible", "days_since_nominated"):
        days = clocks[col].to_numpy(dtype=float)
        f[col] = days
        f[f"log_{col}"] = np.log1p(_capped_days(days))
    return f


def _smd(a: pd.Series, b: pd.Series, wb=None, sd=None) -> float:
    a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    ma = a.mean()
    if wb is None:
        mb = b.mean()
    else:
        ok = b.notna().to_numpy()
        mb = np.average(b[ok], weights=np.asarray(wb)[ok]) if ok.any() else np.nan
    if sd is None:
        sd = np.sqrt((a.var() + b.var()) / 2)
    return float((ma - mb) / sd) if sd and sd > 0 else float("nan")


def estimate_effect(
    tables,
    *,
    as_of: dt.date,
    settings: ImpactSettings | None = None,
    spec: FeatureSpec | None = None,
) -> ImpactResult:
    """Effect of enrolment on emergency admissions and bed days per person-year.

    For each person enrolled (first enrolment) before ``as_of`` with
    ``settings.follow_up_days`` of follow-up, controls are drawn from people on
    the list that day who had not been enrolled by then, and matched on that
    date: exactly on age band (and, by default, emergency admissions in the
    last year, 0-3+, and whether the person became referable within 56 days,
    earlier, or is not referable; sex and locality with ``exact_on``), then
    the ``k`` nearest on the logit of a score within a caliper, with
    replacement, ranked by a distance that also counts how recent the last
    admissions were and sex. The score and the strata come
    from features as of the enrolment date, which use only events strictly
    before it: nothing recorded on or after the enrolment date can change who
    is matched. Features are built once per distinct enrolment date.

    Outcomes are emergency admissions and emergency bed days per person-year
    in ``[date - pre_gap_days - pre_days, date - pre_gap_days)`` (by default
    the selection year) and ``[date, date + post_days)`` (see
    :func:`~riskstrat.impact.window_outcomes`: death, deregistration and the
    end of the data end person-time). The effect is the difference in
    differences of pooled rates (enrolled minus matched controls, after minus
    before), the controls' rates regression-adjusted to the enrolled person's
    covariates, with a percentile bootstrap 95 % CI that by default resamples
    the enrolled and, independently, the control pool as people, and matches
    again and refits the adjustment in every replicate
    (``interval="rematch"``; ``"two-sample"`` keeps the matched sets and the
    adjustment fixed; ``"sets"`` resamples whole matched sets). The
    enrolled keep being followed if their
    enrolment ends (intention to treat: an ending can follow the outcome).

    A control who enrols after the matching date is censored on that day by
    default (``later_enrolment="censor"``): their later person-time is under
    the programme, so counting it would mix the effect into the comparison,
    and dropping such controls altogether would choose controls by their
    future. ``"keep"`` is offered for comparison.

    Also returned: the naive before/after of the enrolled (which regression to
    the mean flatters), a placebo with both windows moved ``placebo_shift_days``
    earlier on the same matched sets (a pseudo-enrolment a year before; about 0
    when the matched groups moved in parallel before enrolment), a balance
    table (standardised mean differences before and after matching), the
    matched sets, and every evaluated enrolled person with their status —
    people with no control are reported as unmatched, never silently dropped.

    Parameters
    ----------
    tables : Tables, ValidatedFolder or path
        Canonical tables with an ``enrolments`` table.
    as_of : datetime.date
        Nothing on or after this date is used.
    settings : ImpactSettings, optional
    spec : FeatureSpec, optional
        Features for the score (a registered model brings its own).

    Returns
    -------
    ImpactResult

    Raises
    ------
    ValueError
        No enrolments table, or nobody enrolled with enough follow-up.
    """
    settings = settings or ImpactSettings()
    as_of = check_date(as_of, "as_of")
    tic = time.perf_counter()
    opened = open_tables(tables)
    base = opened.read(issued_from=as_of, issued_before=as_of)
    first = first_enrolments(base)
    data_end = _data_end(opened, as_of)
    follow = dt.timedelta(days=settings.follow_up_days)
    evaluated = {p: d for p, d in first.items() if d + follow <= data_end}
    if not evaluated:
        raise ValueError(
            f"nobody was enrolled with {settings.follow_up_days} days of follow-up "
            f"before {data_end} ({len(first):,} enrolled in all): use a later "
            "--as-of or a shorter follow-up."
        )
    dates = sorted(set(evaluated.values()))
    model = None
    if settings.score == "model":
        model = registered(settings.model, settings.tracking_uri)  # type: ignore[arg-type]
        spec = model.design.feature_spec
    spec = spec or FeatureSpec()
    if settings.score == "prognostic":
        fit_date = dates[0] - dt.timedelta(days=settings.post_days)
        model = fit_prognostic(
            opened,
            fit_date=fit_date,
            horizon_days=settings.post_days,
            first_enrol=first,
            spec=spec,
            random_state=settings.random_state,
            target=settings.prognostic_target,
        )
    features: dict[dt.date, pa.Table] = {}
    treated: dict[dt.date, np.ndarray] = {}
    candidate: dict[dt.date, np.ndarray] = {}
    features_logger = logging.getLogger("riskstrat.features")
    level = features_logger.level
    features_logger.setLevel(max(level, logging.WARNING))  # one line, not one per date
    try:
        built = {day: build_features(opened, as_of=day, spec=spec) for day in dates}
    finally:
        features_logger.setLevel(level)
    logger.info("features as of %d enrolment dates built", len(dates))
    declined = _declined(base, dates, settings)
    # the result says which controls were used
    settings = dataclasses.replace(
        settings, controls="not_enrolled" if declined is None else "declined"
    )
    for day in dates:
        X = built[day]
        ids = X["patient_id"].to_pylist()
        fe = np.array([first.get(i) for i in ids], dtype=object)
        treated[day] = np.array(
            [f == day and i in evaluated for f, i in zip(fe, ids, strict=True)]
        )
        candidate[day] = np.array([f is None or f > day for f in fe])
        if declined is not None:
            candidate[day] &= np.isin(np.array(ids, dtype=object), declined[day])
        features[day] = X
    if settings.score == "propensity":
        model = fit_propensity(
            features, treated, candidate, random_state=settings.random_state
        )
    # Score, strata and the pooled SD of the logit, then match date by date.
    history = ReferralHistory(base.admissions, base.nominations)
    t_frames, c_frames = [], []
    for day in dates:
        X = features[day]
        rows = treated[day] | candidate[day]
        sub = X.filter(pa.array(rows))
        f = _frame(sub, (*settings.match_covariates, *settings.bias_correction))
        f = _with_referral(f, history.as_of(day, f["patient_id"]))
        f["score"] = score_frame(model, sub)
        f["logit"] = logit(f["score"])
        f["stratum"] = strata(
            f,
            prior_admissions=settings.exact_prior_admissions,
            nominated=settings.exact_nominated,
            recency_days=settings.exact_recency_days,
            exact_on=settings.exact_on,
            referral_days=settings.exact_referral_days,
        ).to_numpy()
        f["date"] = day
        is_t = treated[day][rows]
        t_frames.append(f[is_t])
        c_frames.append(f[~is_t])
    T = pd.concat(t_frames, ignore_index=True)
    C = pd.concat(c_frames, ignore_index=True)
    # Scales come from each date's own people: matching on a date uses nothing
    # recorded on or after it (not even another date's spread).
    covs = tuple(c for c in settings.match_covariates if c in T.columns)
    sets = []
    for day in dates:
        t_day, c_day = T[T["date"] == day].copy(), C[C["date"] == day].copy()
        variances = [t_day["logit"].var(), c_day["logit"].var()]
        finite = [v for v in variances if np.isfinite(v)]
        sd = float(np.sqrt(np.mean(finite))) if finite else 1.0
        caliper = settings.caliper_sd * (sd if sd > 0 else 1.0)
        scaled = []
        for col in covs:
            both = pd.to_numeric(pd.concat([t_day[col], c_day[col]]), errors="coerce")
            sd_col = float(both.std())
            sd_col = sd_col if np.isfinite(sd_col) and sd_col > 0 else 1.0
            t_day[f"_z_{col}"] = pd.to_numeric(t_day[col], errors="coerce") / sd_col
            c_day[f"_z_{col}"] = pd.to_numeric(c_day[col], errors="coerce") / sd_col
            scaled.append(f"_z_{col}")
        m = match(
            t_day,
            c_day,
            k=settings.n_controls * POOL_FACTOR,
            caliper=caliper,
            covariates=tuple(scaled),
        )
        m["enrol_date"] = day
        sets.append(m)
    # The k nearest are the matched sets; the longer ranked lists serve the
    # bootstrap that matches again (with ties by id, the same order).
    # (dates where nobody matched add nothing; their empty frames would turn
    # the id columns' string dtype into object)
    pool = pd.concat([m for m in sets if len(m)] or sets, ignore_index=True)
    matched = pool[pool["rank"] <= settings.n_controls].reset_index(drop=True)
    if matched.empty:
        raise ValueError(
            f"none of the {len(evaluated):,} enrolled people found a control "
            "in their exact stratum (age band and the settings' other strata) "
            f"with a score within {settings.caliper_sd} SD: too few people to "
            "compare with; a larger population, fewer exact strata or a wider "
            "caliper is needed."
        )
    matched["weight"] = 1.0 / matched.groupby("patient_id")["control_id"].transform(
        "size"
    )
    # Every evaluated enrolled person, with what happened to them.
    status = pd.DataFrame(
        {"patient_id": list(evaluated), "enrol_date": list(evaluated.values())}
    ).sort_values("patient_id", ignore_index=True)
    in_pop = set(T["patient_id"])
    n_ctrl = matched.groupby("patient_id").size()
    status["n_controls"] = status["patient_id"].map(n_ctrl).fillna(0).astype(int)
    status["status"] = np.where(
        status["n_controls"] > 0,
        "matched",
        np.where(
            status["patient_id"].isin(in_pop),
            "unmatched: no decliner within the caliper"
            if declined is not None
            else "unmatched: no control within the caliper",
            "unmatched: not on the list on the enrolment date",
        ),
    )
    balance = _balance(T, C, matched)
    main, placebo, selection = _outcomes(
        base, matched, first, data_end, settings, T=T, C=C, pool=pool
    )
    estimates = _estimates(main, placebo, selection, settings)
    logger.info(
        "impact: %d enrolled evaluated, %d matched with %d control rows, %.1f s",
        len(status),
        int((status["n_controls"] > 0).sum()),
        len(matched),
        time.perf_counter() - tic,
    )
    return ImpactResult(
        as_of=as_of,
        data_end=data_end,
        settings=settings,
        estimates=estimates,
        balance=balance,
        matched_sets=matched[
            ["patient_id", "enrol_date", "control_id", "rank", "distance", "weight"]
        ].sort_values(["enrol_date", "patient_id", "rank"], ignore_index=True),
        enrolled=status,
        score_model=model,
        spec=spec,
    )


def _balance(T: pd.DataFrame, C: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    """Standardised mean differences before and after matching."""
    keys = ["patient_id", "date"]
    Tm = T[T["patient_id"].isin(matched["patient_id"])]
    ctrl = matched.rename(columns={"enrol_date": "date"}).merge(
        C.rename(columns={"patient_id": "control_id"}),
        on=["control_id", "date"],
        how="left",
    )
    rows = []
    for var in ("logit", *[b for b in BALANCE if b in T.columns]):
        sd = float(
            np.sqrt((pd.to_numeric(T[var]).var() + pd.to_numeric(C[var]).var()) / 2)
        )
        rows.append(
            {
                "variable": "score (logit)" if var == "logit" else var,
                "mean_enrolled": float(pd.to_numeric(Tm[var]).mean()),
                "mean_candidates": float(pd.to_numeric(C[var]).mean()),
                "mean_matched_controls": float(
                    np.average(
                        pd.to_numeric(ctrl[var]).fillna(np.nan).dropna(),
                        weights=ctrl.loc[pd.to_numeric(ctrl[var]).notna(), "weight"],
                    )
                )
                if pd.to_numeric(ctrl[var]).notna().any()
                else float("nan"),
                "smd_before": _smd(T[var], C[var], sd=sd),
                "smd_after": _smd(Tm[var], ctrl[var], wb=ctrl["weight"], sd=sd),
            }
        )
    del keys
    return pd.DataFrame(rows)


def _windows(people: pd.DataFrame, shift: int, settings: ImpactSettings, gap: int):
    """Pre and post windows (``shift`` days earlier for the placebo).

    The pre window ends ``gap`` days before the (pseudo-)enrolment date.
    """
    day = pd.to_datetime(people["enrol_date"]) - pd.Timedelta(days=shift)
    pre = pd.Timedelta(days=settings.pre_days)
    lag = pd.Timedelta(days=gap)
    post = pd.Timedelta(days=settings.post_days)
    real = pd.to_datetime(people["enrol_date"])
    post_end = day + post
    if shift:  # the placebo's "after" never reaches the real enrolment
        post_end = post_end.where(post_end <= real, real)
    return {
        "pre": (day - lag - pre, day - lag),
        "post": (day, post_end),
    }


def _outcomes(base, matched, first, data_end, settings, *, T=None, C=None, pool=None):
    """Per-set matrices (sets x outcome x COLUMNS) for the main and placebo runs.

    Each run is ``(m, split, controls, pool)``: the per-set matrix (with the
    regression adjustment on the main run), its two-sample form, the controls
    as people, and the :class:`~riskstrat.impact._rematch.Pool` of the
    bootstrap that matches again (``pool``: every enrolled person's ranked
    candidates; default: the matched sets alone).
    """
    pool = matched if pool is None else pool
    sets = matched[["patient_id", "enrol_date"]].drop_duplicates()
    sets = sets.sort_values(["enrol_date", "patient_id"], ignore_index=True)
    people = pd.concat(
        [
            sets.assign(person=sets["patient_id"], censor=pd.NaT),
            pool.assign(person=pool["control_id"])[
                ["patient_id", "enrol_date", "person"]
            ],
        ],
        ignore_index=True,
    )
    people = people.drop_duplicates(["person", "enrol_date"], ignore_index=True)[
        ["person", "enrol_date"]
    ]
    if settings.later_enrolment == "censor":
        later = people["person"].map(first)
        later = pd.to_datetime(later.where(later.notna(), None))
        later = later.where(later > pd.to_datetime(people["enrol_date"]))
        people["censor"] = later
    else:
        people["censor"] = pd.NaT
    results = {}
    runs = [
        ("main", 0, settings.pre_gap_days),
        ("placebo", settings.placebo_shift_days, settings.pre_gap_days),
    ]
    if settings.pre_gap_days:  # the naive before/after keeps the selection year
        runs.append(("selection", 0, 0))
    for name, shift, gap in runs:
        w = _windows(people, shift, settings, gap)
        frames = []
        for part, (start, end) in w.items():
            frames.append(
                pd.DataFrame(
                    {
                        "patient_id": people["person"],
                        "start": start.dt.date,
                        "end": end.dt.date,
                        "censor": people["censor"].dt.date.where(
                            people["censor"].notna(), None
                        ),
                        "part": part,
                        "enrol_date": people["enrol_date"],
                    }
                )
            )
        win = pd.concat(frames, ignore_index=True)
        win["row"] = np.arange(len(win), dtype=np.int64)
        arrow = pa.Table.from_pandas(
            win[["row", "patient_id", "start", "end", "censor"]], preserve_index=False
        )
        out = window_outcomes(
            arrow, base.patients, base.admissions, data_end=data_end
        ).to_pandas()
        win = win.merge(out, on="row")
        raw = _per_set(win, sets, matched)
        m = raw.copy()
        covs = [c for c in settings.bias_correction if T is not None and c in T]
        if name != "main":  # the placebo stays a raw pre-trend check
            covs = []
        if covs:
            _bias_correct(m, win, sets, matched, T, C, covs)
        # Two-sample form: the enrolled with the adjustment, and the controls
        # as people (each weighted by its total weight over every set).
        split = m.copy()
        split[..., 4:] -= raw[..., 4:]
        rem = _pool(win, sets, pool, settings.n_controls, T, C, covs)
        results[name] = (m, split, _per_control(win, matched), rem)
    return results["main"], results["placebo"], results.get("selection")


def _pool(win, sets, pool, k, T, C, covs) -> Pool:
    """Arrays of the bootstrap that matches again (see :class:`Pool`)."""
    wide = _wide_by_control(win)

    def arrays(frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(frame), len(OUTCOMES), 4))
        for j, ev in enumerate(("em_admissions", "em_bed_days")):
            for q, col in enumerate(
                (f"{ev}_pre", "person_days_pre", f"{ev}_post", "person_days_post")
            ):
                out[:, j, q] = frame[col].to_numpy(dtype=float)
        return out

    key = ["control_id", "enrol_date"]
    t = sets.rename(columns={"patient_id": "control_id"}).merge(
        wide, on=key, how="left"
    )
    set_index = sets.reset_index().rename(columns={"index": "set"})
    p = pool.merge(set_index, on=["patient_id", "enrol_date"], how="inner")
    p = p.merge(wide, on=key, how="left").fillna(
        {c: 0.0 for c in wide.columns if c not in key}
    )
    p = p.sort_values(["set", "rank"], ignore_index=True)
    width = int(p["rank"].max()) if len(p) else k
    ranked = np.full((len(sets), max(width, 1)), -1, dtype=np.int64)
    ranked[p["set"].to_numpy(), p["rank"].to_numpy() - 1] = np.arange(len(p))
    person, _ = pd.factorize(p["control_id"], sort=True)
    if covs:
        feats_c = C[["patient_id", "date", *covs]].rename(
            columns={"patient_id": "control_id", "date": "enrol_date"}
        )
        feats_t = T[["patient_id", "date", *covs]].rename(
            columns={"date": "enrol_date"}
        )
        fill = _fill(C, covs)
        x_pairs = _numeric(p[key].merge(feats_c, on=key, how="left"), covs, fill)
        x_t = _numeric(
            sets.merge(feats_t, on=["patient_id", "enrol_date"], how="left"),
            covs,
            fill,
        )
    else:
        x_pairs = np.zeros((len(p), 0))
        x_t = np.zeros((len(sets), 0))
    return Pool(
        enrolled=arrays(t.fillna({c: 0.0 for c in wide.columns if c not in key})),
        ranked=ranked,
        pairs=arrays(p),
        person=np.asarray(person, dtype=np.int64),
        n_people=int(person.max()) + 1 if len(person) else 0,
        x_enrolled=x_t,
        x_pairs=x_pairs,
    )


def _fill(C: pd.DataFrame, covs) -> dict[str, float]:
    """Missing covariates: the candidates' median; never admitted: long ago."""
    fill = {c: float(pd.to_numeric(C[c], errors="coerce").median()) for c in covs}
    if "days_since_last_em_admission" in covs:
        fill["days_since_last_em_admission"] = 3650.0
    return fill


def _numeric(frame: pd.DataFrame, covs, fill) -> np.ndarray:
    out = frame[list(covs)].apply(pd.to_numeric, errors="coerce").astype(float)
    return out.fillna(fill).fillna(0.0).to_numpy()


def _wide(win: pd.DataFrame, person: str) -> pd.DataFrame:
    """One row per (person, enrol_date): each window part's outcomes side by side.

    The person's column is named ``person``.
    """
    wide = win.pivot_table(
        index=["patient_id", "enrol_date"],
        columns="part",
        values=["person_days", "em_admissions", "em_bed_days"],
        aggfunc="first",
    )
    wide.columns = [f"{v}_{p}" for v, p in wide.columns]
    return wide.reset_index().rename(columns={"patient_id": person})


def _wide_by_control(win: pd.DataFrame) -> pd.DataFrame:
    """One row per (control, enrol_date): each window part's outcomes side by side."""
    return _wide(win, "control_id")


def _per_control(win: pd.DataFrame, matched: pd.DataFrame) -> np.ndarray:
    """Matrix (n_controls, 2 outcomes, 8 COLUMNS): each control's weighted part.

    A control counts once however many sets (and dates) they serve, with
    their summed weight; only the control columns are filled.
    """
    wide = _wide_by_control(win)
    w = matched.groupby(["control_id", "enrol_date"], sort=False)["weight"].sum()
    c = w.reset_index().merge(wide, on=["control_id", "enrol_date"], how="left")
    value_cols = [x for x in wide.columns if x not in ("control_id", "enrol_date")]
    c[value_cols] = c[value_cols].fillna(0.0).multiply(c["weight"], axis=0)
    c = c.groupby("control_id", sort=True)[value_cols].sum()
    m = np.zeros((len(c), len(OUTCOMES), len(COLUMNS)))
    for j, ev in enumerate(("em_admissions", "em_bed_days")):
        for k, period in ((2, "pre"), (3, "post")):
            m[:, j, 2 * k] = c[f"{ev}_{period}"].to_numpy(dtype=float)
            m[:, j, 2 * k + 1] = c[f"person_days_{period}"].to_numpy(dtype=float)
    return m


def _bias_correct(m, win, sets, matched, T, C, covs) -> None:
    """Regression adjustment of the controls for what matching left unequal.

    For each period and outcome, a person-time weighted ridge fit
    (:func:`~riskstrat.impact._adjust.fit_adjustment`) of the matched
    controls' rate per person-year on ``covs`` (features as of the matching
    date) gives ``beta``; each set's control rate moves by
    ``beta . (x_enrolled - mean x_controls)``: what the controls' rate would
    have been with the enrolled person's covariates (Abadie and Imbens, 2011).
    The bootstrap that matches again refits it in every replicate
    (:mod:`riskstrat.impact._rematch`). Changes ``m`` in place.
    """
    key = ["patient_id", "enrol_date"]
    feats_c = C[["patient_id", "date", *covs]].rename(
        columns={"patient_id": "control_id", "date": "enrol_date"}
    )
    feats_t = T[["patient_id", "date", *covs]].rename(columns={"date": "enrol_date"})
    wide = _wide_by_control(win)
    rows = matched.merge(feats_c, on=["control_id", "enrol_date"], how="left")
    rows = rows.merge(wide, on=["control_id", "enrol_date"], how="left")
    xt = sets.merge(feats_t, on=key, how="left")
    fill = _fill(C, covs)
    xc = pd.DataFrame(_numeric(rows, covs, fill), columns=list(covs))
    w = rows["weight"].to_numpy(dtype=float)
    mean_c = xc.multiply(w, axis=0).groupby([rows[k] for k in key]).sum()
    mean_c = sets.merge(mean_c.reset_index(), on=key, how="left")
    dx = _numeric(xt, covs, fill) - _numeric(mean_c, covs, fill)
    xv = xc.to_numpy(dtype=float)
    for j, ev in enumerate(("em_admissions", "em_bed_days")):
        for period, col in (("pre", 4), ("post", 6)):
            days = rows[f"person_days_{period}"].to_numpy(dtype=float)
            ok = days > 0
            y = rows[f"{ev}_{period}"].to_numpy(dtype=float)[ok] / days[ok] * 365.25
            beta = fit_adjustment(xv[ok], y, w[ok] * days[ok])
            shift = dx @ beta
            m[:, j, col] += shift * m[:, j, col + 1] / 365.25


def _per_set(win: pd.DataFrame, sets: pd.DataFrame, matched: pd.DataFrame):
    """Matrix (n_sets, 2 outcomes, 8 COLUMNS) of events and person-days."""
    wide = _wide(win, "person")
    t = sets.merge(
        wide, left_on=["patient_id", "enrol_date"], right_on=["person", "enrol_date"]
    )
    c = matched.merge(
        wide, left_on=["control_id", "enrol_date"], right_on=["person", "enrol_date"]
    )
    value_cols = [x for x in wide.columns if x not in ("person", "enrol_date")]
    cw = c[value_cols].multiply(c["weight"], axis=0)
    cw[["patient_id", "enrol_date"]] = c[["patient_id", "enrol_date"]]
    cs = cw.groupby(["patient_id", "enrol_date"], sort=False)[value_cols].sum()
    cs = sets.merge(cs.reset_index(), on=["patient_id", "enrol_date"], how="left")
    m = np.zeros((len(sets), len(OUTCOMES), len(COLUMNS)))
    for j, ev in enumerate(("em_admissions", "em_bed_days")):
        for k, (frame, period) in enumerate(
            [(t, "pre"), (t, "post"), (cs, "pre"), (cs, "post")]
        ):
            m[:, j, 2 * k] = frame[f"{ev}_{period}"].to_numpy(dtype=float)
            m[:, j, 2 * k + 1] = frame[f"person_days_{period}"].to_numpy(dtype=float)
    return m


def _boot(parts, settings, *, contrast: bool = True):
    """Bootstrap replicates of one run.

    The naive before/after (``contrast`` false) only resamples the enrolled,
    so it never needs to match again.
    """
    if not settings.n_bootstraps:
        return None
    m, split, controls, pool = parts
    if settings.interval == "rematch" and contrast:
        return rematch_bootstrap(
            pool,
            k=settings.n_controls,
            n_bootstraps=settings.n_bootstraps,
            random_state=settings.random_state,
        )
    if settings.interval in ("two-sample", "rematch"):
        return bootstrap_two_sample(
            split,
            controls,
            n_bootstraps=settings.n_bootstraps,
            random_state=settings.random_state,
        )
    return bootstrap(
        m, n_bootstraps=settings.n_bootstraps, random_state=settings.random_state
    )


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    """2.5 and 97.5 percentiles of the finite replicates.

    A replicate whose controls had no person-time, or whose counterfactual
    rate is 0, is left out.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def _estimates(main, placebo, selection, settings) -> pd.DataFrame:
    """The matched, naive and placebo rows of ``impact_estimates``.

    The naive before/after is always over the selection year (``selection``,
    or ``main`` when the pre window is the selection year).
    """
    selection = main if selection is None else selection
    rows = []
    runs = (
        ("matched", "did", main),
        ("naive", "naive", selection),
        ("placebo", "did", placebo),
    )
    for label, key, parts in runs:
        matrix = parts[0]
        point = did(matrix.sum(axis=0))
        boot = _boot(parts, settings, contrast=key == "did")
        for j, outcome in enumerate(OUTCOMES):
            lo = hi = rlo = rhi = float("nan")
            if boot is not None:
                lo, hi = _percentiles(boot[key][:, j])
                if key == "did":
                    rlo, rhi = _percentiles(boot["relative"][:, j])
            rows.append(
                {
                    "analysis": label,
                    "outcome": outcome,
                    "estimate": float(point[key][j]),
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "enrolled_before": float(point["t_pre"][j]),
                    "enrolled_after": float(point["t_post"][j]),
                    "controls_before": float(point["c_pre"][j])
                    if key == "did"
                    else float("nan"),
                    "controls_after": float(point["c_post"][j])
                    if key == "did"
                    else float("nan"),
                    "relative": float(point["relative"][j])
                    if key == "did"
                    else float(point["naive"][j] / point["t_pre"][j]),
                    "relative_ci_low": float(rlo),
                    "relative_ci_high": float(rhi),
                    "n_sets": int(matrix.shape[0]),
                }
            )
            ev = ev_ci = float("nan")
            if label == "matched":
                ev, ev_ci = e_value(
                    1 + rows[-1]["relative"], 1 + float(rlo), 1 + float(rhi)
                )
            rows[-1] |= {"e_value": ev, "e_value_ci": ev_ci}
    # the order of earlier versions: matched and naive by outcome, then placebo
    rank = {("matched", o): 2 * i for i, o in enumerate(OUTCOMES)}
    rank |= {("naive", o): 2 * i + 1 for i, o in enumerate(OUTCOMES)}
    rank |= {("placebo", o): 2 * len(OUTCOMES) + i for i, o in enumerate(OUTCOMES)}
    rows.sort(key=lambda r: rank[(str(r["analysis"]), str(r["outcome"]))])
    return pd.DataFrame(rows)
