"""``true_effect``: the programme's effect on the treated, from the counterfactual.

A synthetic population with a programme carries the same people re-simulated
with the same random numbers and no programme (``counterfactual``). For the
enrolled people an evaluation covers, the true effect is the pooled rate of
emergency admissions (and bed days) per person-year in ``[enrol_date,
enrol_date + post_days)`` in the factual tables minus the same in the
counterfactual ones, each with its own person-time (a death the programme
delayed lengthens the factual person-time), measured by the same
:func:`~riskstrat.impact.window_outcomes` as the estimator.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat._utils import check_date
from riskstrat.impact._estimate import first_enrolments
from riskstrat.impact._person_time import per_year, window_outcomes
from riskstrat.impact._result import OUTCOMES
from riskstrat.impact._settings import ImpactSettings
from riskstrat.sources import open_tables

__all__ = ["true_effect"]


def true_effect(
    factual,
    counterfactual,
    *,
    as_of: dt.date,
    settings: ImpactSettings | None = None,
    patients=None,
) -> pd.DataFrame:
    """True effect on the treated per person-year, by outcome.

    Parameters
    ----------
    factual, counterfactual : Tables or path
        The population with the programme and the same people without it
        (``SyntheticPopulation.tables`` and ``.counterfactual``, or the folder
        written by ``SyntheticPopulation.write`` and its ``counterfactual/``).
    as_of : datetime.date
    settings : ImpactSettings, optional
        ``post_days`` and ``follow_up_days`` as the estimator uses them.
    patients : iterable of str, optional
        Only these enrolled people (e.g. the matched ones,
        ``result.enrolled.query("n_controls > 0").patient_id``); default:
        everyone the estimator would evaluate.

    Returns
    -------
    DataFrame
        One row per outcome: ``factual``, ``counterfactual`` (pooled rates per
        person-year), ``effect`` (their difference), ``relative`` (effect over
        the counterfactual rate), ``n_enrolled``.

    Examples
    --------
    >>> import datetime as dt
    >>> from riskstrat.synth import make_population, Programme
    >>> pop = make_population(1500, start=dt.date(2020, 1, 1),
    ...     end=dt.date(2023, 1, 1), random_state=1,
    ...     programme=Programme(start=dt.date(2021, 1, 1), hazard_ratio=1.0))
    >>> t = true_effect(pop.tables, pop.counterfactual, as_of=dt.date(2023, 1, 1))
    >>> t["effect"].tolist()
    [0.0, 0.0]
    """
    settings = settings or ImpactSettings()
    as_of = check_date(as_of, "as_of")
    f = open_tables(factual).read(issued_from=as_of, issued_before=as_of)
    c = open_tables(counterfactual).read(issued_from=as_of, issued_before=as_of)
    first = first_enrolments(f)
    extract = f.extract_date
    data_end = as_of if extract is None else min(as_of, extract)
    follow = dt.timedelta(days=settings.follow_up_days)
    chosen = {p: d for p, d in first.items() if d + follow <= data_end}
    if patients is not None:
        wanted = set(patients)
        chosen = {p: d for p, d in chosen.items() if p in wanted}
    ids = sorted(chosen)
    start = [chosen[i] for i in ids]
    windows = pa.table(
        {
            "row": pa.array(np.arange(len(ids)), pa.int64()),
            "patient_id": pa.array(ids, pa.string()),
            "start": pa.array(start, pa.date32()),
            "end": pa.array(
                [d + dt.timedelta(days=settings.post_days) for d in start], pa.date32()
            ),
            "censor": pa.array([None] * len(ids), pa.date32()),
        }
    )
    of = window_outcomes(windows, f.patients, f.admissions, data_end=data_end)
    oc = window_outcomes(windows, c.patients, c.admissions, data_end=data_end)
    rows = []
    for outcome, col in zip(OUTCOMES, ("em_admissions", "em_bed_days"), strict=True):
        rf = per_year(of[col].to_numpy(), of["person_days"].to_numpy())
        rc = per_year(oc[col].to_numpy(), oc["person_days"].to_numpy())
        rows.append(
            {
                "outcome": outcome,
                "factual": rf,
                "counterfactual": rc,
                "effect": rf - rc,
                "relative": (rf - rc) / rc if rc else float("nan"),
                "n_enrolled": len(ids),
            }
        )
    return pd.DataFrame(rows)
