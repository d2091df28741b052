"""Training runs against the synthetic truth: the oracle, the observable ceiling.

Kept apart from ``test_training_run.py`` (what runs log) so that the suite's
workers can run the two files at once: this one builds 30k people.
"""

from __future__ import annotations

import pytest

from _support.training import END, START, T0, T1
from _support.training import design as _design
from riskstrat.batch import run_training
from riskstrat.synth import make_population


@pytest.fixture(scope="module")
def validity():
    """30k people, one training year: the model against the oracle and the ceiling.

    The test year (from T1) is scored by the run's models, by the oracle (true
    risk simulated for the test cohort only, 16 paths kept as two halves of 8
    so the path noise is extrapolated away, ``auroc_table``) and by the
    observable ceiling (the true risk cross-fitted on the features the model
    sees, ``observable_ceiling``: the best the records allow). Every AUROC and
    difference has a paired bootstrap interval (100 resamples).

    Population seeds 0-3 with this design (model seed 0; the table is in
    docs/performance.md), on the generator re-fitted to published base rates
    (decision 0021): oracle - ceiling 0.020-0.025 (each interval above zero),
    ceiling - LightGBM 0.012-0.019, oracle - LightGBM 0.032-0.044, LightGBM -
    logistic -0.001 to 0.004 (each interval across zero), calibration slope
    0.94-1.16 (seed 3 is above the test's 1.15; the test runs seed 2),
    intercept -0.09 to 0.01. Before the re-fit frailty weighed less in the
    hazard and the records hid about half as much (oracle - ceiling
    0.011-0.014, oracle - LightGBM 0.023-0.028). With two training years at
    100k (``benchmarks/oracle_gap.py``) the model left about 0.004 to the
    ceiling; here, with a seventh of the training data, 0.012-0.019. The
    bounds sit about 2.5 standard errors (a difference's s.e. is ~0.0023)
    outside the seeds' range, and far from what a real bug gives: a model
    fitted on shuffled labels (AUROC ~0.5: ceiling - LightGBM ~0.29), a
    feature leaking the outcome (LightGBM above the ceiling and the oracle),
    a score whose logit is stretched or shrunk by more than ~15 % (slope).
    """
    from riskstrat.model import cohort_frame, known_labels
    from riskstrat.synth import auroc_table, observable_ceiling

    pop = make_population(30_000, start=START, end=END, random_state=2)
    design = _design(seed=0, snapshots=(T0,))
    run = run_training(pop.tables, design, log=False, n_bootstraps=0, bed_days=False)
    test = known_labels(
        cohort_frame(pop.tables, as_of=T1, cohort=design.cohort), what="test year"
    )
    ids = test["patient_id"]
    truth = (
        pop.truth.true_risk(T1, n_paths=16, patient_ids=ids.tolist(), halves=True)
        .to_pandas()
        .set_index("patient_id")
        .reindex(ids)
    )
    X = test[run.models.feature_columns]
    encoded = run.models.risk_model.estimator.encoder_.transform(X)
    scores = {
        "oracle": truth[["true_risk_half_1", "true_risk_half_2"]].to_numpy(),
        "ceiling": observable_ceiling(
            encoded,
            truth["true_risk"].to_numpy(),
            n_splits=3,
            n_estimators=150,
            learning_rate=0.15,
        ),
        "lightgbm": run.models.risk_model.predict_proba(X)[:, 1],
        "logistic": run.models.logistic.predict_proba(X)[:, 1],
        "rules": run.models.rules.predict_proba(X)[:, 1],
    }
    pairs = [
        ("oracle", "ceiling"),
        ("ceiling", "lightgbm"),
        ("oracle", "lightgbm"),
        ("lightgbm", "logistic"),
    ]
    table = auroc_table(test["label"].to_numpy(), scores, pairs, n_bootstraps=100)
    return table.set_index("what"), run.comparison.set_index("model")


def test_the_records_hide_some_risk_the_oracle_sees(validity):
    auroc, _ = validity
    hidden = auroc.loc["oracle - ceiling"]
    assert 0 <= hidden["auroc"] <= 0.03, auroc
    assert hidden["ci_low"] > 0, auroc


def test_lightgbm_is_close_to_the_observable_ceiling_and_never_above_it(validity):
    auroc, _ = validity
    left = auroc.loc["ceiling - lightgbm"]
    assert -0.003 <= left["auroc"] <= 0.025, auroc
    assert left["ci_high"] > 0, auroc  # the model cannot beat the records' best
    assert 0 <= auroc.at["oracle - lightgbm", "auroc"] <= 0.05, auroc


def test_lightgbm_is_not_worse_than_logistic_and_beats_the_rules(validity):
    # On this near-log-linear generator LightGBM's lead over logistic is within
    # its interval of zero on every seed: "not worse" is what the seeds support
    # (the interval of the difference reaches above zero, the point estimate is
    # no more than 0.003 below it); a lead is not claimed.
    auroc, _ = validity
    lead = auroc.loc["lightgbm - logistic"]
    assert lead["auroc"] >= -0.003, auroc
    assert lead["ci_high"] > 0, auroc
    assert auroc.at["logistic", "auroc"] > auroc.at["rules", "auroc"] + 0.05, auroc


def test_lightgbm_is_calibrated_on_the_test_year(validity):
    _, comparison = validity
    # Seeds 0-3 give slopes 0.94-1.16 (s.e. ~0.04 on ~1,500 events; decision 0021).
    assert 0.85 <= comparison.at["lightgbm", "calibration_slope"] <= 1.15
    # The first shown year is in steady state (decision 0009), so the model
    # fitted a year earlier is calibrated in the large too (seeds: -0.09 to 0.01).
    assert abs(comparison.at["lightgbm", "calibration_intercept"]) < 0.1
