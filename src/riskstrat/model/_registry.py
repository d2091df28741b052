"""MLflow I/O: log a training run as a folder you can read; load models by alias.

The model is stored in LightGBM's text format (``model.lgb``, via MLflow's
lightgbm flavour) beside ``riskstrat/model.json`` (column roles, categories,
calibration map, feature schema) — plain text and numbers, so loading never
unpickles anything. No artefact holds patient-level rows.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.model._calibration import CalibratedRiskModel, ScoreCalibrator
from riskstrat.model._encoding import FrameEncoder, feature_schema
from riskstrat.model._risk_model import RiskModel

__all__ = [
    "DEFAULT_EXPERIMENT",
    "LoadedModel",
    "default_tracking_uri",
    "load_model",
    "log_training_run",
]

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "riskstrat"


def default_tracking_uri(models_dir: str | os.PathLike[str] = "models") -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite store in ``models_dir``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    path = Path(models_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'mlflow.db'}"


def _mlflow(tracking_uri: str):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    return mlflow


def _experiment_id(mlflow, name: str, tracking_uri: str) -> str:
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if tracking_uri.startswith("sqlite:///"):
        # Artefacts next to the local store (models/mlruns), not in the cwd.
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        location = (db.parent / "mlruns").resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


def _unwrap(model) -> tuple[RiskModel, ScoreCalibrator | None]:
    if isinstance(model, CalibratedRiskModel):
        return model.estimator, model.calibrator_
    if isinstance(model, RiskModel):
        return model, None
    raise TypeError(
        "log_training_run logs a RiskModel or a CalibratedRiskModel wrapping one. "
        f"Got {type(model).__name__} instead."
    )


def log_training_run(
    model,
    *,
    X_schema,
    design_json: str,
    metrics: Mapping[str, float],
    tables: Mapping[str, pd.DataFrame] | None = None,
    figures: Mapping[str, Any] | None = None,
    register: str | None = None,
    alias: str = "champion",
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
) -> dict[str, str | None]:
    """Log one training run to MLflow and optionally register the model.

    Parameters
    ----------
    model : RiskModel or CalibratedRiskModel
    X_schema : DataFrame
        A feature table (only its column names and dtypes are used; no rows are
        logged) for ``feature_schema.json``.
    design_json : str
        ``ModelDesign.to_json()``, saved as ``model_design.json`` and as params.
    metrics : mapping of str to float
    tables : mapping of str to DataFrame, optional
        Summary tables (evaluation, comparison); saved as CSV. Must not be
        patient-level.
    figures : mapping of str to matplotlib Figure, optional
        Saved as PNG.
    register : str, optional
        Registered model name; the new version gets ``alias``.
    alias : str, default="champion"
    tracking_uri : str, optional
        Defaults to :func:`default_tracking_uri`.
    experiment : str, default="riskstrat"
    run_name : str, optional

    Returns
    -------
    dict
        ``run_id``, ``model_uri``, ``version`` (None if not registered),
        ``tracking_uri``.
    """
    import lightgbm
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    uri = tracking_uri or default_tracking_uri()
    mlflow = _mlflow(uri)
    base, calibrator = _unwrap(model)
    schema = feature_schema(X_schema)
    design = json.loads(design_json)
    exp_id = _experiment_id(mlflow, experiment, uri)
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name) as run:
        flat = pd.json_normalize(design, sep=".").iloc[0].to_dict()
        mlflow.log_params({k: str(v)[:500] for k, v in flat.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        enc = base.encoder_.to_dict() if base.encoder_ is not None else None
        payload = {
            "format": "riskstrat-model-1",
            "encoder": enc,
            "classes": [int(c) for c in base.classes_],
            "calibrator": None if calibrator is None else calibrator.to_dict(),
            "feature_schema": schema,
            "best_iteration": base.best_iteration_,
            "params": base.get_params(),
        }
        importance = pd.DataFrame(
            sorted(base.feature_importance().items(), key=lambda kv: -kv[1]),
            columns=["feature", "gain"],
        )
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            (d / "model.json").write_text(json.dumps(payload, indent=2, sort_keys=True))
            (d / "model_design.json").write_text(design_json)
            (d / "feature_schema.json").write_text(json.dumps(schema, indent=2))
            importance.to_csv(d / "feature_importance.csv", index=False)
            for name, table in (tables or {}).items():
                table.to_csv(d / f"{name}.csv", index=False)
            for name, fig in (figures or {}).items():
                fig.savefig(d / f"{name}.png", dpi=110, bbox_inches="tight")
            mlflow.log_artifacts(str(d), artifact_path="riskstrat")
        n = len(base.encoder_.columns_) if base.encoder_ is not None else 1
        sample = np.zeros((1, n))
        info = mlflow.lightgbm.log_model(
            base.booster_,
            name="model",
            signature=infer_signature(sample, np.zeros(1)),
            pip_requirements=[f"lightgbm=={lightgbm.__version__}"],
        )
        run_id = run.info.run_id
    version = None
    if register:
        mv = mlflow.register_model(info.model_uri, register)
        version = str(mv.version)
        mlflow.MlflowClient(tracking_uri=uri).set_registered_model_alias(
            register, alias, version
        )
    logger.info(
        "mlflow: run %s logged%s",
        run_id,
        f", registered {register} v{version}" if register else "",
    )
    return {
        "run_id": run_id,
        "model_uri": info.model_uri,
        "version": version,
        "tracking_uri": uri,
    }


@dataclass(frozen=True)
class LoadedModel:
    """A registered model as loaded: the estimator and where it came from."""

    model: RiskModel | CalibratedRiskModel
    name: str
    version: str
    run_id: str
    feature_schema: dict

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities ``[1 - p, p]``."""
        return self.model.predict_proba(X)


def load_model(ref: str, *, tracking_uri: str | None = None) -> LoadedModel:
    """Load ``NAME@ALIAS`` or ``NAME/VERSION`` from the registry.

    The trees come from the LightGBM text file; everything else from JSON.
    """
    import lightgbm
    import mlflow.artifacts
    import mlflow.lightgbm

    uri = tracking_uri or default_tracking_uri()
    mlflow = _mlflow(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        mv = client.get_model_version_by_alias(name, alias)
    elif "/" in ref:
        name, version = ref.split("/", 1)
        mv = client.get_model_version(name, version)
    else:
        raise ValueError(
            f"Give a registered model as NAME@ALIAS or NAME/VERSION. Got {ref!r}."
        )
    booster = mlflow.lightgbm.load_model(f"models:/{name}/{mv.version}")
    if not isinstance(booster, lightgbm.Booster):
        raise TypeError(f"{ref} is not a LightGBM booster ({type(booster).__name__}).")
    path = mlflow.artifacts.download_artifacts(
        run_id=mv.run_id, artifact_path="riskstrat/model.json", tracking_uri=uri
    )
    payload = json.loads(Path(path).read_text())
    base = RiskModel(**payload["params"])
    base.booster_ = booster
    base.encoder_ = (
        None
        if payload["encoder"] is None
        else FrameEncoder.from_dict(payload["encoder"])
    )
    base.classes_ = np.asarray(payload["classes"])
    base.best_iteration_ = int(payload["best_iteration"])
    if base.encoder_ is not None:
        base.feature_names_in_ = np.asarray(base.encoder_.columns_, dtype=object)
        base.n_features_in_ = len(base.encoder_.columns_)
    model: RiskModel | CalibratedRiskModel = base
    if payload["calibrator"] is not None:
        cal = CalibratedRiskModel(base, method=payload["calibrator"]["method"])
        cal.calibrator_ = ScoreCalibrator.from_dict(payload["calibrator"])
        cal.classes_ = base.classes_
        model = cal
    return LoadedModel(
        model=model,
        name=name,
        version=str(mv.version),
        run_id=str(mv.run_id),
        feature_schema=payload["feature_schema"],
    )
