"""``evaluate``: discrimination, calibration, caseload and decision-curve tables."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.report._bootstrap import Statistics, bootstrap, percentile_interval
from riskstrat.report._groups import by_group, thresholds_by_group, undefined_note
from riskstrat.report._inputs import (
    check_bed_days,
    check_groups,
    check_outcome_and_scores,
    check_settings,
    check_shares,
)
from riskstrat.report._metrics import (
    SortedSample,
    fit_logistic,
    net_benefit,
    roc_points,
    smooth_calibration,
)
from riskstrat.report._result import Evaluation

__all__ = ["evaluate"]

logger = logging.getLogger(__name__)

NET_BENEFIT_THRESHOLDS = np.round(np.arange(1, 51) / 100, 2)
SCORE_BANDS = np.array(
    [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]
)
_NO_CI = "no bootstrap CI (see docs/evaluation.md)"


def evaluate(
    y_true: Any,
    scores: Any,
    *,
    groups: pd.DataFrame | Mapping[str, Any] | None = None,
    bed_days: Any = None,
    top_shares: Sequence[float] = (0.005, 0.01, 0.02, 0.03, 0.05, 0.10),
    thresholds: Sequence[float] | None = None,
    n_bootstraps: int = 200,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> Evaluation:
    """Evaluate risk scores against outcomes, overall and by group, with CIs.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        1 if the person had the outcome (e.g. an emergency admission within 12
        months), else 0. Both classes must occur.
    scores : array-like of shape (n,)
        Predicted probabilities in [0, 1].
    groups : DataFrame or mapping of str to array-like, optional
        Grouping columns aligned by position with ``y_true`` (e.g. age_band, sex,
        deprivation_decile, locality, care_home). Missing values form their own
        level, ``"(missing)"``.
    bed_days : array-like of shape (n,), optional
        Emergency bed days in the outcome year, for the share captured by each
        cut-off.
    top_shares : sequence of float, default=(0.005, 0.01, 0.02, 0.03, 0.05, 0.10)
        Shares of people flagged from the top of the score, in (0, 1]. Ties at a
        cut-off are all flagged, so ``n_flagged`` may exceed ``share * n``.
    thresholds : sequence of float, optional
        Probability thresholds in (0, 1); people with ``score >= t`` are flagged.
    n_bootstraps : int, default=200
        Percentile-bootstrap replicates for the CIs; 0 skips them (CIs are NaN).
    confidence_level : float, default=0.95
    random_state : int, default=0
        Seed of the resamples; the same seed gives the same CIs.

    Returns
    -------
    Evaluation
        Tidy aggregate tables; see :class:`Evaluation`.

    Raises
    ------
    ValueError
        For inputs of different lengths, NaN, outcomes other than 0/1 or of one
        class, scores outside [0, 1], negative bed days, or bad settings.
    TypeError
        If ``groups`` is not a DataFrame or a mapping.

    See Also
    --------
    compare : key metrics of several evaluations side by side.
    CalibrationDisplay, RiskRocDisplay, DecisionCurveDisplay, RiskDecileDisplay

    Notes
    -----
    The formulas, the calibration smoother and the bootstrap are described in
    ``docs/evaluation.md``. In short: AUROC counts ties as one half and AUPRC is
    average precision, exactly as scikit-learn; the calibration intercept is the
    intercept of a logistic regression of y on the offset ``logit(p)`` and the
    slope the coefficient of ``logit(p)``; E-avg, E50, E90 and E-max summarise
    ``|c(p) - p|`` for a smoothed calibration curve ``c`` (Austin & Steyerberg
    2019). CIs are percentile-bootstrap intervals over resampled people, with
    cut-offs held at their full-sample values; calibration intercept and slope
    are refitted in each resample by Newton steps from the full-sample fit. The
    E-statistics have no CI.

    Examples
    --------
    >>> ev = evaluate([0, 0, 1, 0, 1, 0, 1, 1], [.1, .2, .3, .35, .6, .7, .8, .9])
    >>> ev.overall.set_index("metric").loc[["n", "auroc"], "estimate"].tolist()
    [8.0, 0.8125]
    >>> ev.thresholds[["value", "n_flagged", "ppv", "sensitivity"]].tail(1)
       value  n_flagged  ppv  sensitivity
    5    0.1          1  1.0         0.25
    """
    tic = time.perf_counter()
    y, p = check_outcome_and_scores(y_true, scores)
    n = y.size
    bed = check_bed_days(bed_days, n)
    group_specs = check_groups(groups, n)
    shares = check_shares(top_shares, "top_shares", closed_right=True)
    probs = check_shares(
        () if thresholds is None else thresholds, "thresholds", closed_right=False
    )
    check_settings(n_bootstraps, confidence_level, random_state)

    s = SortedSample.from_arrays(y, p)
    bed_s = None if bed is None else bed[s.order]
    sorted_groups = [
        (col, codes[s.order], levels) for col, codes, levels in group_specs
    ]
    cuts = np.r_[s.top_counts(shares), s.counts_at_least(probs)].astype(np.int64)
    rules = ["top_share"] * shares.size + ["probability"] * probs.size
    slope_fit = fit_logistic(s.x, s.y)
    intercept_fit = fit_logistic(s.x, s.y, fit_slope=False)
    stats = Statistics(
        s,
        cuts=cuts,
        decile_edges=s.rank_bins(10),
        bed_days=bed_s,
        groups=[(codes, len(levels)) for _, codes, levels in sorted_groups],
        slope_fit=slope_fit,
        intercept_fit=intercept_fit,
    )
    est = stats(np.ones(n, dtype=np.int64))
    reps = bootstrap(stats, n_bootstraps, random_state) if n_bootstraps else {}

    def ci(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if key not in reps:
            nan = np.full(np.size(est.get(key, [np.nan])), np.nan)
            return nan, nan, np.zeros(nan.size, dtype=np.int64)
        return percentile_interval(reps[key], confidence_level)

    curve, distance = smooth_calibration(s)
    ev = Evaluation(
        overall=_overall(s, est, ci, slope_fit, intercept_fit, distance, n_bootstraps),
        thresholds=_thresholds(s, est, ci, cuts, rules, np.r_[shares, probs], bed_s),
        calibration=_calibration(s, est, ci),
        calibration_curve=pd.DataFrame(curve)[["predicted", "observed_smoothed", "n"]],
        roc=pd.DataFrame(roc_points(s)),
        net_benefit=_net_benefit(s),
        distribution=_distribution(s),
        by_group=by_group(s, est, ci, stats, sorted_groups, n_bootstraps),
        thresholds_by_group=thresholds_by_group(
            s, cuts, rules, np.r_[shares, probs], sorted_groups
        ),
        n_bootstraps=int(n_bootstraps),
        confidence_level=float(confidence_level),
        random_state=int(random_state),
    )
    logger.info(
        "evaluate: %d people, %d events, AUROC %.3f, %d bootstrap replicates, "
        "%d grouping columns in %.1f s",
        n,
        int(y.sum()),
        ev.metric("auroc"),
        n_bootstraps,
        len(sorted_groups),
        time.perf_counter() - tic,
    )
    return ev


def _overall(
    s, est, ci, slope_fit, intercept_fit, distance, n_bootstraps
) -> pd.DataFrame:
    rows = [
        ("n", float(s.n), np.nan, np.nan, ""),
        ("events", s.y.sum(), np.nan, np.nan, ""),
    ]
    point = {
        "prevalence": est["prevalence"][0],
        "auroc": est["auroc"][0],
        "auprc": est["auprc"][0],
        "brier": est["brier"][0],
        "calibration_intercept": intercept_fit[0],
        "calibration_slope": slope_fit[1],
    }
    for metric, value in point.items():
        low, high, bad = ci(metric)
        note = undefined_note(metric, int(bad[0]), n_bootstraps)
        if np.isnan(value) and metric.startswith("calibration"):
            note = (
                "undefined: all scores are equal"
                if s.x.min() == s.x.max()
                else "logistic fit did not converge (complete separation?)"
            )
        rows.append((metric, value, low[0], high[0], note))
    e50, e90 = np.quantile(distance, [0.5, 0.9])
    for metric, value in [
        ("e_avg", distance.mean()),
        ("e50", e50),
        ("e90", e90),
        ("e_max", distance.max()),
    ]:
        rows.append((metric, value, np.nan, np.nan, _NO_CI))
    low, high, bad = ci("observed_expected")
    rows.append(("observed_expected", est["observed_expected"][0], low[0], high[0], ""))
    return pd.DataFrame(
        rows, columns=["metric", "estimate", "ci_low", "ci_high", "note"]
    )


def _thresholds(s, est, ci, cuts, rules, values, bed) -> pd.DataFrame:
    events = s.y.sum()
    tp = np.r_[0.0, np.cumsum(s.y)][cuts]
    cutoff = np.where(
        np.array(rules) == "top_share", s.p[np.maximum(cuts, 1) - 1], values
    )
    out = pd.DataFrame(
        {
            "rule": rules,
            "value": values,
            "n_flagged": cuts,
            "share_flagged": cuts / s.n,
            "cutoff": cutoff,
            "events_flagged": tp.astype(np.int64),
        }
    )
    for metric in ("ppv", "sensitivity"):
        low, high, _ = ci(metric)
        out[metric], out[f"{metric}_ci_low"], out[f"{metric}_ci_high"] = (
            est[metric],
            low,
            high,
        )
    out["specificity"] = 1 - (cuts - tp) / (s.n - events)
    if bed is None:
        nan = np.full(cuts.size, np.nan)
        (
            out["bed_day_share"],
            out["bed_day_share_ci_low"],
            out["bed_day_share_ci_high"],
        ) = nan, nan, nan
    else:
        low, high, _ = ci("bed_day_share")
        out["bed_day_share"] = est["bed_day_share"]
        out["bed_day_share_ci_low"], out["bed_day_share_ci_high"] = low, high
    with np.errstate(divide="ignore"):
        out["flagged_per_event"] = np.where(tp > 0, cuts / np.maximum(tp, 1), np.nan)
    return out


def _calibration(s, est, ci) -> pd.DataFrame:
    edges = s.rank_bins(10)
    starts = edges[:-1]
    n = np.diff(edges)
    events = np.add.reduceat(s.y, starts)[::-1]
    predicted = np.add.reduceat(s.p, starts)[::-1]
    low, high, _ = ci("decile_observed")
    with np.errstate(divide="ignore", invalid="ignore"):
        oe = events / predicted
    return pd.DataFrame(
        {
            "decile": np.arange(1, n.size + 1),
            "n": n[::-1],
            "events": events.astype(np.int64),
            "mean_predicted": predicted / n[::-1],
            "observed": est["decile_observed"],
            "observed_ci_low": low,
            "observed_ci_high": high,
            "observed_expected": oe,
        }
    )


def _net_benefit(s) -> pd.DataFrame:
    nb = net_benefit(s, NET_BENEFIT_THRESHOLDS)
    frames = [
        pd.DataFrame(
            {"threshold": NET_BENEFIT_THRESHOLDS, "strategy": k, "net_benefit": v}
        )
        for k, v in nb.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _distribution(s) -> pd.DataFrame:
    band = np.clip(
        np.searchsorted(SCORE_BANDS, s.p, side="right") - 1, 0, SCORE_BANDS.size - 2
    )
    size = SCORE_BANDS.size - 1
    n = np.bincount(band, minlength=size)
    events = np.bincount(band, s.y, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "score_from": SCORE_BANDS[:-1],
                "score_to": SCORE_BANDS[1:],
                "n": n,
                "share": n / s.n,
                "events": events.astype(np.int64),
                "observed": events / n,
                "mean_predicted": np.bincount(band, s.p, size) / n,
            }
        )
