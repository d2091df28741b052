"""promote: the champion alias moves only to a challenger that is not worse."""

from __future__ import annotations

import datetime as dt

import pytest

from riskstrat.batch import PromotionSettings, promote
from riskstrat.features import FeatureSpec, feature_schema
from riskstrat.model import (
    CohortSettings,
    ModelDesign,
    TemporalDesign,
    fit_models,
    load_model,
    log_training_run,
)

#: A small population's model is over-confident two years on (slope ~0.8): the
#: test judges the AUROC comparison, so the calibration limits are wide here.
WIDE = PromotionSettings(slope_limits=(0.5, 1.5), oe_limits=(0.5, 2.0))

#: Features that carry almost nothing: every window one day long.
POOR = FeatureSpec(
    windows_days=(1,), frailty_days=1, comorbidity_days=1, drug_days=1,
    nomination_days=1,
)  # fmt: skip


def _register(tables, uri, spec, alias, params):
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
        ),
        feature_spec=spec,
        model_params=params,
    )
    models = fit_models(tables, design)
    log_training_run(
        models.risk_model,
        schema=feature_schema(spec),
        design_json=design.to_json(),
        metrics={},
        reference=models.reference,
        register="p",
        alias=alias,
        tracking_uri=uri,
    )


@pytest.fixture(scope="module")
def store(cached_population, tmp_path_factory, mlflow_store):
    pop = cached_population(4_000, random_state=5)
    uri = mlflow_store(tmp_path_factory.mktemp("promote") / "mlflow.db")
    _register(pop.tables, uri, POOR, "champion", {"max_trees": 2})  # v1
    _register(pop.tables, uri, FeatureSpec(), "challenger", {"max_trees": 60})  # v2
    return pop, uri


def test_a_better_challenger_is_promoted_and_a_worse_one_refused(store):
    pop, uri = store
    better = promote(
        pop.tables, challenger="p@challenger", tracking_uri=uri, settings=WIDE
    )
    assert better.promoted, better.table
    assert better.as_of == dt.date(2023, 4, 2)  # the last year with outcomes
    assert load_model("p@champion", tracking_uri=uri).version == "2"
    diff = better.table.set_index("model").loc["challenger - champion"]
    assert diff["auroc_ci_low"] > 0  # better beyond doubt
    _register(pop.tables, uri, POOR, "challenger", {"max_trees": 2})  # v3
    worse = promote(
        pop.tables, challenger="p@challenger", tracking_uri=uri, settings=WIDE
    )
    assert not worse.promoted
    assert any("AUROC worse" in r for r in worse.reasons), worse.reasons
    assert load_model("p@champion", tracking_uri=uri).version == "2"


def test_the_decision_is_logged_to_mlflow_and_a_dry_run_moves_nothing(store):
    import mlflow

    pop, uri = store
    before = load_model("p@champion", tracking_uri=uri).version
    promote(pop.tables, challenger="p/1", tracking_uri=uri, dry_run=True)
    assert load_model("p@champion", tracking_uri=uri).version == before
    client = mlflow.MlflowClient(tracking_uri=uri)
    exps = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in exps])
    decisions = [r for r in runs if "riskstrat.decision" in r.data.tags]
    assert decisions, "no promotion run logged"
    last = decisions[0]
    assert last.data.params["challenger"] == "models:/p/1"
    assert last.data.params["promoted"] == "False"
    assert "auroc_difference" in last.data.metrics


def test_models_sharing_a_feature_spec_share_one_cohort_build(store, monkeypatch):
    import riskstrat.batch._promote as module

    pop, uri = store
    calls = []
    real = module.build_cohort

    def counting(*args, **kwargs):
        calls.append(kwargs["spec"])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "build_cohort", counting)
    same = promote(
        pop.tables, challenger="p/2", champion="p/2", tracking_uri=uri, dry_run=True
    )
    assert len(calls) == 1, calls
    diff = same.table.set_index("model").loc["challenger - champion"]
    assert diff["auroc"] == 0
    calls.clear()
    promote(
        pop.tables, challenger="p/2", champion="p/1", tracking_uri=uri, dry_run=True
    )
    assert len(calls) == 2  # two specs, two builds
