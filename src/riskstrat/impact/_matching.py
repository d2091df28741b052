"""Matching each enrolled person to controls on the enrolment date.

Within exact strata (age band and, by default, emergency admissions in the
last year: 0, 1, 2, 3+, and how newly the person became referable; sex and
locality on request), each enrolled person takes the
``k`` nearest candidates on the logit of a score, within a caliper, with
replacement (a control may serve several enrolled people). Ties in distance are
broken by patient id, so the matched sets do not depend on row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat._utils import age_band

__all__ = ["match", "strata"]


def strata(
    frame: pd.DataFrame,
    *,
    prior_admissions: bool,
    nominated: bool = False,
    recency_days: tuple[int, ...] = (),
    exact_on: tuple[str, ...] = ("sex", "locality"),
    referral_days: int | None = None,
) -> pd.Series:
    """The exact-matching stratum of each row (age band, sex, locality, ...).

    The age band is always part of it; ``exact_on`` names which of ``sex``
    and ``locality`` are too (unknown is a value of its own). With
    ``referral_days``, also whether the person became referable within that
    many days — met the admissions rule (``days_since_eligible``) or was
    nominated (``days_since_nominated``) — or earlier, or is not referable
    (see :mod:`riskstrat.impact._referral`).

    With ``recency_days`` (e.g. ``(30, 91, 365)``), also how recently the
    person left hospital: ``in hospital`` (``in_hospital`` true), then
    ``days_since_last_discharge`` within each bound in turn, else ``longer``
    (never discharged, or unknown, is ``longer``).

    Examples
    --------
    >>> f = pd.DataFrame({"age": [70, 91], "sex": ["female", None],
    ...     "locality": ["A", "B"], "em_admissions_12m": [2, 7]})
    >>> strata(f, prior_admissions=True).tolist()
    ['65-74|female|A|2', '85+|unknown|B|3']
    >>> f["days_since_last_discharge"] = [12, None]
    >>> f["in_hospital"] = [False, None]
    >>> strata(f, prior_admissions=False, recency_days=(30, 91)).tolist()
    ['65-74|female|A|<=30d', '85+|unknown|B|longer']
    >>> strata(f, prior_admissions=True, exact_on=("sex",)).tolist()
    ['65-74|female|2', '85+|unknown|3']
    >>> f["days_since_eligible"] = [20, None]
    >>> f["days_since_nominated"] = [None, 400]
    >>> strata(f, prior_admissions=False, exact_on=(), referral_days=56).tolist()
    ['65-74|newly referable', '85+|referable']
    """
    parts = [pd.Series(age_band(frame["age"]), index=frame.index)]
    for col in ("sex", "locality"):
        if col in exact_on:
            parts.append(frame[col].astype(object).where(frame[col].notna(), "unknown"))
    if prior_admissions:
        prior = pd.to_numeric(frame["em_admissions_12m"]).fillna(0).clip(upper=3)
        parts.append(prior.astype(int))
    if nominated and "nominated_12m" in frame:
        nom = frame["nominated_12m"].astype(object)
        parts.append(
            nom.where(nom.notna(), "unknown")
            .map({True: "nominated", False: "-"})
            .fillna("unknown")
        )
    if recency_days:
        days = pd.to_numeric(frame["days_since_last_discharge"], errors="coerce")
        band = pd.Series("longer", index=frame.index, dtype=object)
        for bound in sorted(recency_days, reverse=True):
            band = band.where(~(days <= bound), f"<={bound}d")
        hosp = frame["in_hospital"].astype("boolean").fillna(False).to_numpy(bool)
        parts.append(band.where(~hosp, "in hospital"))
    if referral_days is not None:
        since = np.fmin(
            pd.to_numeric(frame["days_since_eligible"]).to_numpy(dtype=float),
            pd.to_numeric(frame["days_since_nominated"]).to_numpy(dtype=float),
        )
        referral = np.where(
            np.isnan(since),
            "not referable",
            np.where(since <= referral_days, "newly referable", "referable"),
        )
        parts.append(pd.Series(referral, index=frame.index))
    out = parts[0].astype(str)
    for p in parts[1:]:
        out = out + "|" + p.astype(str)
    return out


def logit(p) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` kept inside ``[1e-6, 1 - 1e-6]``."""
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def match(
    treated: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    k: int,
    caliper: float,
    covariates: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Up to ``k`` nearest candidates for each treated row, within ``caliper``.

    Parameters
    ----------
    treated, candidates : DataFrame
        ``patient_id``, ``stratum`` and ``logit`` (the score on the logit
        scale), all of one matching date.
    k : int
        Controls per treated person, with replacement.
    caliper : float
        Largest ``|logit_t - logit_c|``.
    covariates : tuple of str, default=()
        Columns (already scaled) added to the distance: candidates within the
        caliper are ranked by the Euclidean distance over ``logit`` and these.

    Returns
    -------
    DataFrame
        ``patient_id`` (treated), ``control_id``, ``distance``, ``rank``
        (1 = nearest); treated people with no candidate within the caliper
        have no row.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["t"], "stratum": ["s"], "logit": [0.0]})
    >>> c = pd.DataFrame({"patient_id": ["c", "b", "a", "z"],
    ...     "stratum": ["s", "s", "s", "x"], "logit": [0.1, -0.1, 0.9, 0.0]})
    >>> match(t, c, k=2, caliper=0.5)[["control_id", "rank"]].values.tolist()
    [['b', 1], ['c', 2]]
    """
    out = []
    cand_groups = dict(list(candidates.groupby("stratum", sort=True)))
    for s, tg in treated.groupby("stratum", sort=True):
        cg = cand_groups.get(s)
        if cg is None or cg.empty:
            continue
        cg = cg.sort_values("patient_id", kind="stable")
        c_ids = cg["patient_id"].to_numpy()
        gap = np.abs(tg["logit"].to_numpy()[:, None] - cg["logit"].to_numpy()[None])
        dist = gap**2
        for col in covariates:
            a = tg[col].to_numpy(dtype=float)[:, None]
            b = cg[col].to_numpy(dtype=float)[None]
            dist = dist + np.nan_to_num((a - b) ** 2, nan=1.0)
        dist = np.sqrt(dist)
        dist[gap > caliper] = np.inf
        # stable sort on distance after sorting candidates by id: ties by id
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        d = np.take_along_axis(dist, order, axis=1)
        ok = np.isfinite(d)
        rows, cols = np.nonzero(ok)
        out.append(
            pd.DataFrame(
                {
                    "patient_id": tg["patient_id"].to_numpy()[rows],
                    "control_id": c_ids[order[rows, cols]],
                    "distance": d[rows, cols],
                    "rank": cols + 1,
                }
            )
        )
    if not out:
        return pd.DataFrame(
            {
                "patient_id": pd.Series([], dtype=object),
                "control_id": pd.Series([], dtype=object),
                "distance": pd.Series([], dtype=float),
                "rank": pd.Series([], dtype=int),
            }
        )
    return pd.concat(out, ignore_index=True)
