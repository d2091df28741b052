"""Training labels under a programme: does the default give untreated risk?

Usage::

    python benchmarks/treated_labels.py --patients 30000 --seed 0

A synthetic population with a case-management programme that works
(``Programme(start=2019-10-01, hazard_ratio=0.5)``: enrolled people's
emergency-admission hazard is halved from 60 days after enrolment);
``SyntheticPopulation.counterfactual`` holds the same people's futures with no
programme. Three calibrated LightGBM risk models are trained on the same two
snapshots (2020-04-01 and 2021-04-01, people aged 18+), then scored on
2022-04-01:

- **default** (``ModelDesign(enrolled_time="censor")``, decision 0017): people
  enrolled on a training date left out, label windows censored at enrolment;
- **naive** (``enrolled_time="keep"``): labels as recorded, treated time in;
- **untreated world**: trained on the counterfactual tables (no programme at
  all) — the reference no label handling can beat.

Observed/expected (O/E) is each model's expected admissions against the
**counterfactual** (untreated) outcomes of 2022-04-01 to 2023-03-31, for the
people with an open enrolment on 2022-04-01 (their record as recorded, and
their untreated record from the counterfactual tables) and for everyone else.
O/E > 1 means the model under-predicts untreated risk. Prints one table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

T_TRAIN = (dt.date(2020, 4, 1), dt.date(2021, 4, 1))
T_TEST = dt.date(2022, 4, 1)


def main() -> None:
    from riskstrat.features import enrolment_time
    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        cohort_frame,
        fit_models,
    )
    from riskstrat.synth import Programme, make_population

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hazard-ratio", type=float, default=0.5)
    ap.add_argument("--uptake", type=float, default=0.5)
    ap.add_argument("--frailty-selection", type=float, default=0.5)
    args = ap.parse_args()

    tic = time.perf_counter()
    programme = Programme(
        start=dt.date(2019, 10, 1),
        hazard_ratio=args.hazard_ratio,
        uptake=args.uptake,
        frailty_selection=args.frailty_selection,
    )
    pop = make_population(args.patients, random_state=args.seed, programme=programme)
    print(
        f"population: {args.patients:,} people, {pop.tables.enrolments.num_rows:,} "
        f"enrolments ({time.perf_counter() - tic:.0f} s)"
    )
    cohort = CohortSettings(min_age=18)
    models = {}
    for name, tables, mode in (
        ("default", pop.tables, "censor"),
        ("naive", pop.tables, "keep"),
        ("untreated world", pop.counterfactual, "keep"),
    ):
        tic = time.perf_counter()
        design = ModelDesign(
            cohort=cohort,
            temporal=TemporalDesign(train_as_of=T_TRAIN, test_as_of=T_TEST),
            enrolled_time=mode,
            random_state=args.seed,
        )
        models[name] = fit_models(tables, design)
        print(
            f"{name}: fitted in {time.perf_counter() - tic:.0f} s; "
            f"{models[name].enrolled}"
        )
    recorded = cohort_frame(pop.tables, as_of=T_TEST, cohort=cohort)
    untreated = cohort_frame(pop.counterfactual, as_of=T_TEST, cohort=cohort)
    outcome = untreated.set_index("patient_id")["label"].astype("Float64")
    time_ = enrolment_time(pop.tables, as_of=T_TEST).to_pandas()
    enrolled = set(time_.loc[time_["enrolled_on_as_of"], "patient_id"])
    groups = {
        "enrolled on 2022-04-01, record as recorded": recorded[
            recorded["patient_id"].isin(enrolled)
        ],
        "enrolled on 2022-04-01, untreated record": untreated[
            untreated["patient_id"].isin(enrolled)
        ],
        "everyone else": recorded[~recorded["patient_id"].isin(enrolled)],
    }
    columns = models["default"].feature_columns
    rows = []
    for group, frame in groups.items():
        y = outcome.reindex(frame["patient_id"]).to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(y)
        row = {"group": group, "people": int(known.sum()), "events": y[known].sum()}
        for name, m in models.items():
            p = m.risk_model.predict_proba(frame[columns][known])[:, 1]
            row[f"O/E {name}"] = y[known].sum() / p.sum()
        rows.append(row)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.precision", 3):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
