from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from riskstrat.model import (
    CalibratedRiskModel,
    CohortSettings,
    ModelDesign,
    RiskModel,
    TemporalDesign,
    load_model,
    log_training_run,
)


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    n = 4_000
    X = pd.DataFrame(
        {
            "patient_id": [f"p{i:07d}" for i in range(n)],
            "age": rng.integers(18, 100, n),
            "sex": rng.choice(["female", "male"], n),
            "em_12m": rng.poisson(0.2, n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(X.age - 85) / 6 - X.em_12m))).astype(int)
    base = RiskModel(max_trees=80, random_state=0).fit(X[:3000], y[:3000])
    model = CalibratedRiskModel(base, method="isotonic").fit(X[3000:], y[3000:])
    design = ModelDesign(
        cohort=CohortSettings(),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
        ),
        model_params=base.get_params(),
    )
    return model, X, design


def test_log_register_and_load_by_alias_scores_identically(
    tmp_path, fitted, mlflow_store
):
    model, X, design = fitted
    uri = mlflow_store(tmp_path / "mlflow.db")
    out = log_training_run(
        model,
        schema=pa.Schema.from_pandas(X, preserve_index=False),
        design_json=design.to_json(),
        metrics={"auroc": 0.8},
        tables={"overall": pd.DataFrame({"metric": ["auroc"], "estimate": [0.8]})},
        register="emergency-risk",
        tracking_uri=uri,
    )
    assert out["version"] == "1"
    loaded = load_model("emergency-risk@champion", tracking_uri=uri)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.version == "1"
    assert loaded.feature_schema["columns"][0] == {"name": "age", "type": "int64"}
    assert loaded.design == design
    again = load_model("emergency-risk/1", tracking_uri=uri)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    # Artefacts live beside the store, are readable, and hold no patient rows.
    files = sorted(p for p in (tmp_path / "mlruns").rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {
        "model.lgb",
        "model.json",
        "model_design.json",
        "feature_schema.json",
        "feature_importance.csv",
        "overall.csv",
    } <= names
    assert not any(p.suffix in {".pkl", ".pickle", ".skops"} for p in files)
    for p in files:
        text = p.read_bytes().decode("utf-8", errors="ignore")
        assert "p000" not in text, f"patient id in {p}"
    assert (
        ModelDesign.from_json(
            next(p for p in files if p.name == "model_design.json").read_text()
        )
        == design
    )


def test_bad_reference_is_explained(tmp_path):
    with pytest.raises(ValueError, match="NAME@ALIAS or NAME/VERSION"):
        load_model("just-a-name", tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")


def test_temporal_design_refuses_overlapping_label_windows():
    with pytest.raises(ValueError, match="must be at least horizon_days=365 later"):
        TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 1, 1)
        )


def test_design_round_trips_json(fitted):
    _, _, design = fitted
    assert ModelDesign.from_json(design.to_json()) == design


def test_default_store_is_under_models(tmp_path, monkeypatch):
    from riskstrat.model import default_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert (
        default_tracking_uri()
        == f"sqlite:///{Path(tmp_path).resolve() / 'models' / 'mlflow.db'}"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_tracking_uri() == "http://127.0.0.1:5000"


def _log(model, X, design, uri, **kw):
    return log_training_run(
        model,
        schema=pa.Schema.from_pandas(X, preserve_index=False),
        design_json=design.to_json(),
        metrics={"auroc": 0.8},
        tracking_uri=uri,
        **kw,
    )


def test_a_run_left_running_by_a_killed_process_is_marked_failed(
    tmp_path, fitted, mlflow_store
):
    import subprocess
    import sys

    import mlflow

    model, X, design = fitted
    uri = mlflow_store(tmp_path / "mlflow.db")
    _log(model, X, design, uri)  # creates the experiment
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, mlflow; mlflow.set_tracking_uri(os.environ['URI']); "
            "e = mlflow.get_experiment_by_name('riskstrat'); "
            "r = mlflow.start_run(experiment_id=e.experiment_id); "
            "print(r.info.run_id, flush=True); os._exit(9)",
        ],
        env={**__import__("os").environ, "URI": uri},
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == 9
    dead = killed.stdout.split()[0]
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert client.get_run(dead).info.status == "RUNNING"
    _log(model, X, design, uri, register="emergency-risk")
    run = client.get_run(dead)
    assert run.info.status == "FAILED"
    assert "process ended" in run.data.tags["riskstrat.failure"]
    versions = client.search_model_versions("name='emergency-risk'")
    assert [v.run_id for v in versions] != [dead] and len(versions) == 1


_LOG_ONE = """
import sys
import numpy as np, pandas as pd, pyarrow as pa
from riskstrat.model import RiskModel, log_training_run
rng = np.random.default_rng(int(sys.argv[2]))
X = pd.DataFrame({"age": rng.integers(18, 100, 2000)})
y = (rng.random(2000) < X.age / 150).astype(int)
m = RiskModel(max_trees=20, random_state=0).fit(X, y)
out = log_training_run(m, schema=pa.Schema.from_pandas(X, preserve_index=False),
                       design_json=sys.argv[3], metrics={}, tracking_uri=sys.argv[1])
print(out["run_id"])
"""


def test_two_runs_on_a_fresh_store_at_once_both_finish(tmp_path, fitted):
    """The store and experiment are created once, under a lock (two processes)."""
    import subprocess
    import sys

    import mlflow

    _, _, design = fitted
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _LOG_ONE, uri, str(k), design.to_json()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for _, e in outs]
    ids = [o.strip().splitlines()[-1] for o, _ in outs]
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert len(set(ids)) == 2
    assert {client.get_run(i).info.status for i in ids} == {"FINISHED"}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"register": "a/b"}, "registered model name 'a/b'"),
        ({"register": "ok", "alias": "v3"}, "alias 'v3'"),
    ],
)
def test_bad_names_are_refused_before_logging(tmp_path, fitted, kw, message):
    model, X, design = fitted
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(ValueError, match=message):
        _log(model, X, design, uri, **kw)
    assert not (tmp_path / "m.db").exists()


def test_a_store_in_a_missing_folder_is_refused(tmp_path, fitted):
    model, X, design = fitted
    with pytest.raises(ValueError, match="does not exist"):
        _log(model, X, design, f"sqlite:///{tmp_path / 'no' / 'm.db'}")
