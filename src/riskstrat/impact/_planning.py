"""Planning curve: emergency bed days a number of case managers could save a year.

Case managers take people in rank order of the score (highest first),
``caseload_per_fte`` each. The bed days those people would use a year without
case management are read from history: on ``rank_date`` (a year before the end
of the data) the people eligible (aged ``min_age`` or over, not enrolled) are
ranked by the score, and the pooled rate of emergency bed days per person-year
over the next ``horizon_days`` of the top ``n`` is their expected bed days. The
estimated relative effect on bed days (the matched difference in differences
over the enrolled's counterfactual rate) with its bootstrap CI is applied to
them: ``saved(n) = -relative * n * rate(top n)``, the band from the CI.

The effect was estimated on the people the programme enrolled; applying it to
the top of another ranking assumes the effect per bed day is alike there.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.features import build_features
from riskstrat.impact._estimate import first_enrolments
from riskstrat.impact._person_time import window_outcomes
from riskstrat.impact._result import ImpactResult
from riskstrat.impact._scores import score_frame
from riskstrat.sources import open_tables

__all__ = ["ENGLAND_SHARE", "planning_curve"]

#: Seed 003: 250,000 case-management patients expected in England (about 50
#: million people at the time), 7,644 of them in Essex: 0.5 % of a population.
ENGLAND_SHARE = 250_000 / 50_000_000


def planning_curve(
    tables,
    result: ImpactResult,
    *,
    caseload_per_fte: int | None = None,
    scoping_share: float = ENGLAND_SHARE,
    max_case_managers: float | None = None,
    min_age: int = 65,
    cost_per_bed_day: float = 300.0,
    points: int = 21,
) -> pd.DataFrame:
    """Expected emergency bed days saved a year against case managers (FTE).

    Parameters
    ----------
    tables : Tables, ValidatedFolder or path
    result : ImpactResult
        Its relative effect on bed days (and CI) and its score model.
    caseload_per_fte : int, optional
        Patients per case manager (default ``StratifySettings().caseload_per_fte``).
    scoping_share : float, default=0.005
        The scoping figure is ``scoping_share`` of the people on the list at the
        end of the data (seed 003's 250,000 of England), in patients; the curve
        runs from 0 to the case managers they need.
    max_case_managers : float, optional
        End of the curve instead of the scoping figure.
    min_age : int, default=65
    cost_per_bed_day : float, default=300
    points : int, default=21
        Points on the curve.

    Returns
    -------
    DataFrame
        ``case_managers`` (FTE), ``patients``, ``expected_bed_days`` (a year,
        without case management), ``bed_days_saved`` with ``saved_low`` and
        ``saved_high`` (from the CI of the relative effect), ``value_saved`` (£),
        ``scoping_patients``.
    """
    from riskstrat.stratify import StratifySettings

    per_fte = caseload_per_fte or StratifySettings().caseload_per_fte
    opened = open_tables(tables)
    base = opened.read(issued_from=result.data_end, issued_before=result.data_end)
    first = first_enrolments(base)
    horizon = result.settings.post_days
    rank_date = result.data_end - dt.timedelta(days=horizon)
    X = build_features(opened, as_of=rank_date, spec=result.spec)
    ids = np.array(X["patient_id"].to_pylist(), dtype=object)
    age = X["age"].to_numpy(zero_copy_only=False)
    enrolled = np.array([first.get(i, rank_date) < rank_date for i in ids])
    keep = (age >= min_age) & ~enrolled
    X = X.filter(pa.array(keep))
    ids = ids[keep]
    risk = score_frame(result.score_model, X)
    order = np.lexsort((ids, -risk))
    windows = pa.table(
        {
            "row": pa.array(np.arange(len(order)), pa.int64()),
            "patient_id": pa.array(ids[order], pa.string()),
            "start": pa.array([rank_date] * len(order), pa.date32()),
            "end": pa.array(
                [rank_date + dt.timedelta(days=horizon)] * len(order), pa.date32()
            ),
            "censor": pa.array([None] * len(order), pa.date32()),
        }
    )
    out = window_outcomes(
        windows, base.patients, base.admissions, data_end=result.data_end
    )
    cum_bed = np.cumsum(out["em_bed_days"].to_numpy().astype(float))
    cum_days = np.cumsum(out["person_days"].to_numpy().astype(float))
    on_list = build_features(opened, as_of=result.data_end, spec=result.spec).num_rows
    scoping = round(on_list * scoping_share)
    top = max_case_managers
    if top is None:
        top = max(math.ceil(scoping / per_fte), 1)
    fte = np.linspace(0.0, float(top), points)
    n = np.minimum(np.round(fte * per_fte).astype(int), len(order))
    rate = np.zeros(len(n))
    ok = n > 0
    idx = n[ok] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rate[ok] = cum_bed[idx] / cum_days[idx] * 365.25
    expected = n * np.nan_to_num(rate)
    bd = result.get("matched", "emergency_bed_days")
    rel, lo, hi = bd["relative"], bd["relative_ci_low"], bd["relative_ci_high"]
    saved = -rel * expected
    return pd.DataFrame(
        {
            "case_managers": fte,
            "patients": n,
            "expected_bed_days": expected,
            "bed_days_saved": saved,
            "saved_low": -hi * expected,
            "saved_high": -lo * expected,
            "value_saved": saved * cost_per_bed_day,
            "scoping_patients": scoping,
        }
    )
