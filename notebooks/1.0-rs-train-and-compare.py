# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Train, compare and register an emergency-admission risk model
#
# A thin analyst notebook: every step is one call into `riskstrat`. It runs on a
# synthetic population whose **true risk** is known, so the models can be
# compared with the best possible one (the oracle). Point `RISKSTRAT_DATA` at a
# folder of canonical tables to run it on real data instead (no oracle then).
#
# The test suite executes this notebook on a small population
# (`RISKSTRAT_NB_PATIENTS`) with a temporary MLflow store (`MLFLOW_TRACKING_URI`).

# %%
import datetime as dt
import os
from pathlib import Path

import riskstrat
from riskstrat.batch import run_training
from riskstrat.features import build_features
from riskstrat.model import (
    CohortSettings,
    ModelDesign,
    TemporalDesign,
    load_model,
    score,
)
from riskstrat.report import CalibrationDisplay, DecisionCurveDisplay, RiskRocDisplay
from riskstrat.sources import load_tables
from riskstrat.synth import make_population

N_PATIENTS = int(os.environ.get("RISKSTRAT_NB_PATIENTS", "50000"))
DATA = os.environ.get("RISKSTRAT_DATA")
SEED = 0
print("riskstrat", riskstrat.__version__)

# %% [markdown]
# ## 1. Data: a synthetic population (or your canonical tables)

# %%
if DATA:
    tables, truth = load_tables(Path(DATA)), None
else:
    pop = make_population(
        N_PATIENTS,
        start=dt.date(2019, 4, 1),
        end=dt.date(2024, 4, 1),
        random_state=SEED,
    )
    tables, truth = pop.tables, pop.truth
tables.counts.to_pandas()

# %% [markdown]
# ## 2. Features as of the training date
# Events strictly before `as_of` are history; one row per person alive and
# registered on the day.

# %%
T0, T1 = dt.date(2021, 4, 1), dt.date(2022, 4, 1)
features = build_features(tables, as_of=T0).to_pandas()
features[["age", "em_admissions_12m", "drugs_90d", "essex_priority"]].describe()

# %% [markdown]
# ## 3. Train at T0, calibrate on held-out people, test on the year from T1
# The cohort, the dates and the model settings are kept apart and saved with
# the run (`model_design.json`).

# %%
design = ModelDesign(
    cohort=CohortSettings(min_age=18, outcome="emergency_admission"),
    temporal=TemporalDesign(train_as_of=(T0,), test_as_of=T1),
    random_state=SEED,
)
run = run_training(
    tables,
    design,
    truth=truth,
    stale_as_of=[dt.date(2023, 4, 1)],
    register="emergency-risk",
    alias="champion",
    n_bootstraps=100,
)
run.comparison[["model", "auroc", "auroc_ci_low", "auroc_ci_high", "calibration_slope"]]

# %% [markdown]
# ## 4. How good, for whom, at which caseload

# %%
ev = run.evaluations["lightgbm"]
ev.thresholds

# %%
ev.by_group[ev.by_group["group"] == "age_band"]

# %%
RiskRocDisplay.from_evaluation(ev, name="lightgbm")
CalibrationDisplay.from_evaluation(ev, name="lightgbm")
DecisionCurveDisplay.from_evaluation(ev, name="lightgbm")

# %% [markdown]
# ## 5. Stale scores: the T0 model scoring later years

# %%
run.stale

# %% [markdown]
# ## 6. Load the registered model by alias; it scores exactly as trained

# %%
loaded = load_model("emergency-risk@champion")
features = build_features(tables, as_of=T1, spec=loaded.design.feature_spec)
scores = score(loaded, features)  # keyed by (patient_id, as_of), version pinned
again = score(run.models.risk_model, features)
same = scores["risk"].equals(again["risk"])
print(f"registered version {loaded.version}: identical scores = {bool(same)}")
assert same
scores.to_pandas().head()
