"""Training runs: what is logged and what is never logged (validity: test_training_validity.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _support.training import END, START, T0, T1, T2
from _support.training import design as _design
from riskstrat.batch import run_training
from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign, load_model
from riskstrat.synth import make_population


@pytest.fixture(scope="module")
def small():
    return make_population(3_000, start=START, end=END, random_state=5)


@pytest.fixture(scope="module")
def logged(small, tmp_path_factory, mlflow_store):
    uri = mlflow_store(tmp_path_factory.mktemp("mlflow") / "mlflow.db")
    run = run_training(
        small.tables,
        _design(),
        truth=small.truth,
        stale_as_of=[T2],
        register="risk",
        tracking_uri=uri,
        n_bootstraps=20,
        oracle_paths=8,  # the oracle's plumbing, not its figures
    )
    return run, uri


def _artefacts(info: dict, uri: str, dest: Path) -> Path:
    """The run's artefacts, with the logged model's files under ``model/``."""
    import mlflow.artifacts

    root = Path(
        mlflow.artifacts.download_artifacts(
            run_id=info["run_id"], tracking_uri=uri, dst_path=str(dest / "run")
        )
    )
    mlflow.artifacts.download_artifacts(
        artifact_uri=info["model_uri"],
        tracking_uri=uri,
        dst_path=str(root / "model"),
    )
    return root


def test_run_logs_design_metrics_tables_plots_and_schema(logged, tmp_path):
    import mlflow

    run, uri = logged
    info = mlflow.MlflowClient(tracking_uri=uri).get_run(run.mlflow["run_id"])
    assert info.data.params["temporal.test_as_of"] == "2022-04-01"
    assert info.data.params["cohort.min_age"] == "18"
    metrics = info.data.metrics
    lgbm, oracle = run.evaluations["lightgbm"], run.evaluations["oracle"]
    assert metrics["test_auroc"] == pytest.approx(lgbm.metric("auroc"))
    assert metrics["test_auroc_oracle"] == pytest.approx(oracle.metric("auroc"))
    assert metrics["test_calibration_slope"] == pytest.approx(
        lgbm.metric("calibration_slope")
    )
    assert metrics["n_test"] == run.n_test
    assert "stale_auroc_2g" not in info.data.metrics
    assert {"stale_auroc_1y", "stale_auroc_2y"} <= set(info.data.metrics)

    root = _artefacts(run.mlflow, uri, tmp_path)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for expected in (
        "riskstrat/model_design.json",
        "riskstrat/feature_schema.json",
        "riskstrat/feature_importance.csv",
        "riskstrat/evaluation_overall.csv",
        "riskstrat/evaluation_thresholds.csv",
        "riskstrat/evaluation_by_group.csv",
        "riskstrat/comparison.csv",
        "riskstrat/stale_scores.csv",
        "riskstrat/roc.png",
        "riskstrat/calibration.png",
        "model/data/riskstrat/model.lgb",
        "model/data/riskstrat/model.json",
        "model/MLmodel",
        "model/input_example.json",
    ):
        assert expected in files, sorted(files)
    schema = json.loads((root / "riskstrat/feature_schema.json").read_text())
    assert schema["hash"] and "em_admissions_12m" in [
        c["name"] for c in schema["columns"]
    ]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))]


def test_no_artefact_holds_a_patient_level_row(logged, small, tmp_path):
    run, uri = logged
    root = _artefacts(run.mlflow, uri, tmp_path)
    ids = set(small.tables.patients["patient_id"].to_pylist())
    n_people = len(ids)
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix == ".png":
            continue
        text = path.read_text(errors="replace")
        found = ids & set(re.findall(r"[A-Za-z0-9_]+", text))
        assert not found, f"{path.name} holds patient ids {sorted(found)[:3]}"
        if path.suffix == ".csv":
            rows = len(pd.read_csv(path))
            assert rows < n_people / 5, f"{path.name} has {rows} rows"


def test_registered_model_loads_by_alias_and_scores_identically(logged, small):
    from riskstrat.features import build_features

    run, uri = logged
    loaded = load_model("risk@champion", tracking_uri=uri)
    X = build_features(small.tables, as_of=T1).to_pandas()[run.models.feature_columns]
    np.testing.assert_array_equal(
        loaded.predict_proba(X), run.models.risk_model.predict_proba(X)
    )


def test_comparison_and_stale_tables(logged):
    run, _ = logged
    assert list(run.comparison["model"]) == ["lightgbm", "logistic", "rules", "oracle"]
    assert list(run.stale["scored_as_of"]) == ["2022-04-01", "2023-04-01"]
    assert list(run.stale["years_since_training"]) == [1.0, 2.0]
    first = run.stale.iloc[0]
    assert first["auroc"] == pytest.approx(run.evaluations["lightgbm"].metric("auroc"))


def test_bed_days_model_is_evaluated_logged_and_registered_beside_risk(
    logged, small, tmp_path
):
    import mlflow

    from riskstrat.features import build_features
    from riskstrat.model import score_bed_days

    run, uri = logged
    assert run.models.bed_days_model is not None
    # Registered as NAME-bed-days with the same alias, pinned to a version.
    beds = load_model("risk-bed-days@champion", tracking_uri=uri)
    risk = load_model("risk@champion", tracking_uri=uri)
    assert beds.kind == "bed_days" and risk.kind == "risk"
    assert beds.version == run.mlflow["bed_days_version"]
    assert beds.run_id == risk.run_id  # the same training run
    assert beds.feature_schema == risk.feature_schema
    assert beds.design == risk.design
    feats = build_features(small.tables, as_of=T1, spec=beds.design.feature_spec)
    X = feats.to_pandas()[run.models.feature_columns]
    np.testing.assert_array_equal(beds.predict(X), run.models.bed_days_model.predict(X))
    with pytest.raises(TypeError, match="bed-days model"):
        beds.predict_proba(X)
    # Plain MLflow gets expected bed days, as score_bed_days does.
    mlflow.set_tracking_uri(uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/risk-bed-days/{beds.version}")
    keyed = score_bed_days(beds, feats)
    np.testing.assert_allclose(
        pyfunc.predict(feats.to_pandas()),
        keyed["expected_bed_days"].to_numpy(),
        rtol=0,
        atol=1e-12,
    )
    assert keyed["model_name"][0].as_py() == "risk-bed-days"
    # Figures of the test year in the same run, and the capture table.
    metrics = mlflow.MlflowClient(tracking_uri=uri).get_run(run.mlflow["run_id"])
    metrics = metrics.data.metrics
    for name in ("tweedie_deviance", "spearman", "gini", "mean_expected"):
        assert metrics[f"test_bed_days_{name}"] == pytest.approx(run.bed_days[name])
    capture = run.bed_day_capture
    assert set(capture["ranking"]) == {"risk", "expected_bed_days", "rules", "ceiling"}
    assert list(capture["share_of_cohort"].unique()) == [0.01, 0.03, 0.05, 0.1]
    at5 = capture[capture["share_of_cohort"] == 0.05].set_index("ranking")
    assert metrics["test_bed_day_capture_risk_5pct"] == pytest.approx(
        at5.at["risk", "share_captured"]
    )
    # Hindsight captures the most; both models beat a random list of that size.
    for ranking in ("risk", "expected_bed_days"):
        assert at5.at[ranking, "share_captured"] > 0.05 * 1.5
        assert at5.at[ranking, "share_captured"] <= at5.at["ceiling", "share_captured"]
    assert len(run.bed_days_calibration) == 10
    root = _artefacts(run.mlflow, uri, tmp_path)
    for name in ("bed_day_capture.csv", "bed_days_calibration.csv"):
        assert (root / "riskstrat" / name).is_file()


def test_bed_days_can_be_turned_off(cached_population):
    pop = cached_population(4_000, random_state=5)
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(train_as_of=(T0,), test_as_of=T1),
        model_params={"max_trees": 20},
    )
    run = run_training(pop.tables, design, log=False, n_bootstraps=0, bed_days=False)
    assert run.models.bed_days_model is None
    assert run.bed_days is None and run.bed_day_capture is None


def test_register_needs_logging(small):
    with pytest.raises(ValueError, match="register"):
        run_training(small.tables, _design(), log=False, register="x")


def test_a_tiny_population_is_stopped_with_what_is_too_small(cached_population):
    tiny = cached_population(60, random_state=1)
    with pytest.raises(ValueError, match=r"too small to fit or judge a risk model"):
        run_training(tiny.tables, _design(), log=False)


def test_an_empty_cohort_is_stopped_with_what_is_too_small(small):
    design = ModelDesign(
        cohort=CohortSettings(min_age=119),
        temporal=TemporalDesign(train_as_of=(T0,), test_as_of=T1),
    )
    with pytest.raises(ValueError, match=r"training: 0 people"):
        run_training(small.tables, design, log=False)


def test_a_label_window_past_the_extract_is_refused_before_fitting(small):
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(train_as_of=(T0,), test_as_of=dt.date(2023, 6, 1)),
    )
    with pytest.raises(ValueError, match="runs past the extract date 2024-04-01"):
        run_training(small.tables, design, log=False)
