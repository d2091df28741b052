"""MLflow I/O: log a training run as a folder you can read; load models by alias.

The model is stored as an MLflow ``python_function`` model whose data folder
holds riskstrat's own files (see :mod:`riskstrat.model._pyfunc`): the trees in
LightGBM's text format, and JSON for everything else — so loading never
unpickles anything, and any MLflow user can call it (``mlflow.pyfunc.load_model``,
``spark_udf``, serving). :func:`load_model` reads the ``MLmodel`` file first
and refuses any model that is not exactly that, before reading anything else.
No artefact holds patient-level rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.exceptions import SchemaError
from riskstrat.model._bed_days import BedDaysModel
from riskstrat.model._calibration import CalibratedRiskModel, ScoreCalibrator
from riskstrat.model._design import ModelDesign
from riskstrat.model._encoding import FrameEncoder, feature_schema
from riskstrat.model._pyfunc import (
    DATA_DIR,
    MODEL_FILES,
    OUTPUTS,
    dumps,
    input_example,
    signature,
)
from riskstrat.model._risk_model import RiskModel

__all__ = [
    "BED_DAYS_SUFFIX",
    "DEFAULT_EXPERIMENT",
    "LoadedModel",
    "check_model_name",
    "check_tracking_uri",
    "default_tracking_uri",
    "load_bed_days_model",
    "load_model",
    "log_training_run",
    "model_from_files",
]

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "riskstrat"
#: The bed-days model of a run is registered as ``NAME`` + this suffix, with the
#: same alias as the risk model ``NAME``.
BED_DAYS_SUFFIX = "-bed-days"
_LOADER_MODULE = "riskstrat.model._pyfunc"
_URI_SCHEMES = (
    "sqlite",
    "file",
    "http",
    "https",
    "databricks",
    "postgresql",
    "mysql",
    "mssql",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_ALIAS = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")


def default_tracking_uri(models_dir: str | os.PathLike[str] = "models") -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite store in ``models_dir``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    path = Path(models_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'mlflow.db'}"


def check_tracking_uri(uri: str, *, must_exist: bool = False) -> str:
    """Refuse a tracking URI that cannot be right, before any work is done.

    A local SQLite store is written ``sqlite:////absolute/path/mlflow.db`` or
    ``sqlite:///relative/path/mlflow.db``; its folder must exist, and with
    ``must_exist`` (loading a model) so must the file — a mistyped path would
    otherwise silently create an empty store.

    Raises
    ------
    ValueError
        With what was wrong and an example of a right URI.

    Examples
    --------
    >>> check_tracking_uri("http://127.0.0.1:5000")
    'http://127.0.0.1:5000'
    >>> check_tracking_uri("sqlit:///models/mlflow.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The MLflow tracking URI 'sqlit:///models/mlflow.db' has an unknown ...
    """
    scheme = urlparse(uri).scheme
    if scheme not in _URI_SCHEMES:
        raise ValueError(
            f"The MLflow tracking URI {uri!r} has an unknown scheme {scheme!r}; "
            f"use one of {', '.join(_URI_SCHEMES)} (e.g. "
            "sqlite:///models/mlflow.db or http://host:5000)."
        )
    if scheme == "sqlite":
        if not uri.startswith("sqlite:///"):
            raise ValueError(
                f"The MLflow tracking URI {uri!r} is not a SQLite file URI; write "
                "sqlite:///relative/path.db or sqlite:////absolute/path.db."
            )
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.parent.is_dir():
            raise ValueError(
                f"The folder of the MLflow store {uri!r} does not exist "
                f"({path.parent}); create it or fix the URI."
            )
        if must_exist and not path.is_file():
            raise ValueError(
                f"There is no MLflow store at {uri!r}: the file does not exist. "
                "Check the URI (or MLFLOW_TRACKING_URI), or train and register a "
                "model first."
            )
    return uri


def check_model_name(name: str | None, alias: str | None = None) -> None:
    """Refuse a registered-model name or alias MLflow would reject, up front.

    Examples
    --------
    >>> check_model_name("emergency-risk", "champion")
    >>> check_model_name("bad/name")
    Traceback (most recent call last):
    ...
    ValueError: The registered model name 'bad/name' is not allowed: ...
    """
    if name is not None and not _NAME.match(name):
        raise ValueError(
            f"The registered model name {name!r} is not allowed: use letters, "
            "digits, '.', '_' and '-' (e.g. emergency-risk)."
        )
    if alias is not None and (
        not _ALIAS.match(alias)
        or alias.lower() == "latest"
        or re.fullmatch(r"[vV]\d+", alias)
    ):
        raise ValueError(
            f"The alias {alias!r} is not allowed: use letters, digits, '_' and "
            "'-', not 'latest' nor v<number> (e.g. champion)."
        )


def _mlflow(tracking_uri: str):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    return mlflow


@contextlib.contextmanager
def _store_lock(tracking_uri: str) -> Iterator[None]:
    """One writer at a time on a local store (a file lock beside it).

    Remote stores (a tracking server) serialise writes themselves.
    """
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    from filelock import FileLock

    db = Path(tracking_uri.removeprefix("sqlite:///"))
    with FileLock(str(db) + ".lock", timeout=600):
        yield


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


def _fail_abandoned_runs(client, experiment_id: str) -> int:
    """Mark runs left RUNNING by a killed process as FAILED.

    Called with the store lock held: logging happens only under that lock, so a
    run still RUNNING then belongs to a process that died. Its model is never
    registered (registration follows a finished run).
    """
    stale = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    for run in stale:
        client.set_tag(
            run.info.run_id,
            "riskstrat.failure",
            "found RUNNING by a later run: its process ended before finishing",
        )
        client.set_terminated(run.info.run_id, status="FAILED")
        logger.warning(
            "mlflow: run %s was left RUNNING by a process that ended; marked FAILED",
            run.info.run_id,
        )
    return len(stale)


def _unwrap(
    model,
) -> tuple[RiskModel | BedDaysModel, ScoreCalibrator | None]:
    if isinstance(model, CalibratedRiskModel):
        return model.estimator, model.calibrator_
    if isinstance(model, RiskModel | BedDaysModel):
        return model, None
    raise TypeError(
        "log_training_run logs a RiskModel or a CalibratedRiskModel wrapping one "
        f"(and a BedDaysModel beside it). Got {type(model).__name__} instead."
    )


def _kind(model) -> str:
    return "bed_days" if isinstance(model, BedDaysModel) else "risk"


def _write_model_files(
    model, folder: Path, *, schema: dict, design_json: str, reference: dict
) -> None:
    """The model as text files: trees, roles and calibration, design, schema."""
    base, calibrator = _unwrap(model)
    folder.mkdir(parents=True, exist_ok=True)
    base.booster_.save_model(str(folder / "model.lgb"))
    kind = _kind(base)
    payload = {
        "format": "riskstrat-model-2",
        "kind": kind,
        "encoder": base.encoder_.to_dict() if base.encoder_ is not None else None,
        "classes": None if kind == "bed_days" else [int(c) for c in base.classes_],
        "calibrator": None if calibrator is None else calibrator.to_dict(),
        "best_iteration": base.best_iteration_,
        "balance": getattr(base, "balance_", None),
        "params": base.get_params(),
    }
    (folder / "model.json").write_text(dumps(payload))
    (folder / "model_design.json").write_text(design_json)
    (folder / "feature_schema.json").write_text(dumps(schema))
    (folder / "reference.json").write_text(dumps(reference))


def model_from_files(
    folder: Path,
) -> tuple[RiskModel | CalibratedRiskModel | BedDaysModel, dict]:
    """Rebuild a model from the text files :func:`log_training_run` writes.

    Reads ``model.lgb`` with LightGBM's text parser and the rest as JSON;
    nothing is unpickled. ``model.json``'s ``kind`` says which model it is:
    ``risk`` (the default, for files written before bed-days models were
    registered) or ``bed_days``.

    Returns
    -------
    model : RiskModel, CalibratedRiskModel or BedDaysModel
    info : dict
        ``design`` (:class:`ModelDesign`), ``feature_schema`` and ``reference``
        (the training distribution) as dicts.
    """
    import lightgbm

    folder = Path(folder)
    missing = [f for f in MODEL_FILES if not (folder / f).is_file()]
    if missing:
        raise SchemaError(f"The model folder {folder.name!r} lacks {missing}.")
    payload = json.loads((folder / "model.json").read_text())
    if payload.get("format") != "riskstrat-model-2":
        raise SchemaError(
            f"model.json has format {payload.get('format')!r}; this riskstrat reads "
            "'riskstrat-model-2'. Retrain the model with this version."
        )
    kind = payload.get("kind", "risk")
    if kind not in OUTPUTS:
        raise SchemaError(
            f"model.json has kind {kind!r}; this riskstrat reads {sorted(OUTPUTS)}."
        )
    base: RiskModel | BedDaysModel = (
        BedDaysModel(**payload["params"])
        if kind == "bed_days"
        else RiskModel(**payload["params"])
    )
    base.booster_ = lightgbm.Booster(model_file=str(folder / "model.lgb"))
    base.encoder_ = (
        None
        if payload["encoder"] is None
        else FrameEncoder.from_dict(payload["encoder"])
    )
    if isinstance(base, RiskModel):
        base.classes_ = np.asarray(payload["classes"])
    else:
        base.balance_ = float(payload.get("balance") or 1.0)
    base.best_iteration_ = int(payload["best_iteration"])
    if base.encoder_ is not None:
        base.feature_names_in_ = np.asarray(base.encoder_.columns_, dtype=object)
        base.n_features_in_ = len(base.encoder_.columns_)
    model: RiskModel | CalibratedRiskModel | BedDaysModel = base
    if payload["calibrator"] is not None and isinstance(base, RiskModel):
        cal = CalibratedRiskModel(base, method=payload["calibrator"]["method"])
        cal.calibrator_ = ScoreCalibrator.from_dict(payload["calibrator"])
        cal.classes_ = base.classes_
        model = cal
    info = {
        "design": ModelDesign.from_json((folder / "model_design.json").read_text()),
        "feature_schema": json.loads((folder / "feature_schema.json").read_text()),
        "reference": json.loads((folder / "reference.json").read_text()),
    }
    return model, info


def log_training_run(
    model,
    *,
    schema: pa.Schema,
    design_json: str,
    metrics: Mapping[str, float],
    reference: Mapping[str, Any] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    figures: Mapping[str, Any] | None = None,
    register: str | None = None,
    alias: str = "champion",
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    bed_days_model: BedDaysModel | None = None,
) -> dict[str, str | None]:
    """Log one training run to MLflow and optionally register the model.

    Parameters
    ----------
    model : RiskModel or CalibratedRiskModel
    schema : pyarrow.Schema
        The schema of the feature table the model was trained on
        (``riskstrat.features.feature_schema(spec)``); saved as
        ``feature_schema.json`` (names, types, order, hash) and used as the
        model's MLflow signature. Scoring refuses features that differ.
    design_json : str
        ``ModelDesign.to_json()``, saved as ``model_design.json`` and as params.
    metrics : mapping of str to float
    reference : dict, optional
        The training distribution (``TrainedModels.reference``), saved as
        ``reference.json`` for drift monitoring; aggregates only.
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
    bed_days_model : BedDaysModel, optional
        Expected emergency bed days, fitted on the same cohort and features.
        Logged in the same run as a second pyfunc (``bed_days_model/``, same
        loader, same design and feature schema) and, with ``register``,
        registered as ``register + "-bed-days"`` with the same ``alias``.

    Returns
    -------
    dict
        ``run_id``, ``model_uri``, ``version`` (None if not registered),
        ``tracking_uri``; with a bed-days model also ``bed_days_model_uri``,
        ``bed_days_name`` and ``bed_days_version``.

    Notes
    -----
    On a local store the whole logging step holds a file lock beside the
    database, so two training runs never race to create the store or the
    experiment; runs a killed process left RUNNING are then marked FAILED. A
    run that fails while logging is marked FAILED and its model is not
    registered.
    """
    uri = check_tracking_uri(tracking_uri or default_tracking_uri())
    check_model_name(register, alias if register else None)
    if register and bed_days_model is not None:
        check_model_name(register + BED_DAYS_SUFFIX)
    base, _ = _unwrap(model)
    if bed_days_model is not None and not isinstance(bed_days_model, BedDaysModel):
        raise TypeError(
            "The `bed_days_model` parameter of log_training_run must be a "
            f"BedDaysModel. Got {type(bed_days_model).__name__} instead."
        )
    saved_schema = feature_schema(schema)
    design = json.loads(design_json)
    mlflow = _mlflow(uri)
    with _store_lock(uri):
        client = mlflow.MlflowClient(tracking_uri=uri)
        exp_id = _experiment_id(mlflow, experiment, uri)
        _fail_abandoned_runs(client, exp_id)
        with mlflow.start_run(experiment_id=exp_id, run_name=run_name) as run:
            flat = pd.json_normalize(design, sep=".").iloc[0].to_dict()
            mlflow.log_params({k: str(v)[:500] for k, v in flat.items()})
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
            importance = pd.DataFrame(
                sorted(base.feature_importance().items(), key=lambda kv: -kv[1]),
                columns=["feature", "gain"],
            )
            with tempfile.TemporaryDirectory() as tmp:
                d = Path(tmp) / "summary"
                d.mkdir()
                (d / "model_design.json").write_text(design_json)
                (d / "feature_schema.json").write_text(dumps(saved_schema))
                importance.to_csv(d / "feature_importance.csv", index=False)
                if bed_days_model is not None:
                    pd.DataFrame(
                        sorted(
                            bed_days_model.feature_importance().items(),
                            key=lambda kv: -kv[1],
                        ),
                        columns=["feature", "gain"],
                    ).to_csv(d / "bed_days_feature_importance.csv", index=False)
                for name, table in (tables or {}).items():
                    table.to_csv(d / f"{name}.csv", index=False)
                for name, fig in (figures or {}).items():
                    fig.savefig(d / f"{name}.png", dpi=110, bbox_inches="tight")
                mlflow.log_artifacts(str(d), artifact_path="riskstrat")
                logged = {
                    "model": _log_pyfunc(
                        model,
                        Path(tmp) / "risk",
                        name="model",
                        schema=schema,
                        saved_schema=saved_schema,
                        design_json=design_json,
                        reference=dict(reference or {}),
                    )
                }
                if bed_days_model is not None:
                    logged["bed_days_model"] = _log_pyfunc(
                        bed_days_model,
                        Path(tmp) / "bed_days",
                        name="bed_days_model",
                        schema=schema,
                        saved_schema=saved_schema,
                        design_json=design_json,
                        reference={},
                    )
            run_id = run.info.run_id
        out: dict[str, str | None] = {
            "run_id": run_id,
            "model_uri": logged["model"],
            "version": None,
            "tracking_uri": uri,
        }
        if bed_days_model is not None:
            out["bed_days_model_uri"] = logged["bed_days_model"]
            out["bed_days_name"] = None
            out["bed_days_version"] = None
        if register:
            mv = mlflow.register_model(logged["model"], register)
            out["version"] = str(mv.version)
            client.set_registered_model_alias(register, alias, str(mv.version))
            if bed_days_model is not None:
                beds = register + BED_DAYS_SUFFIX
                mv = mlflow.register_model(logged["bed_days_model"], beds)
                out["bed_days_name"] = beds
                out["bed_days_version"] = str(mv.version)
                client.set_registered_model_alias(beds, alias, str(mv.version))
    logger.info(
        "mlflow: run %s logged%s%s",
        run_id,
        f", registered {register} v{out['version']}" if register else "",
        f" and {out.get('bed_days_name')} v{out.get('bed_days_version')}"
        if register and bed_days_model is not None
        else "",
    )
    return out


def _log_pyfunc(
    model,
    folder: Path,
    *,
    name: str,
    schema: pa.Schema,
    saved_schema: dict,
    design_json: str,
    reference: dict,
) -> str:
    """Log ``model`` as riskstrat's pyfunc named ``name`` in the active run."""
    import lightgbm
    import mlflow.pyfunc

    data = folder / DATA_DIR
    _write_model_files(
        model, data, schema=saved_schema, design_json=design_json, reference=reference
    )
    info = mlflow.pyfunc.log_model(
        name=name,
        loader_module=_LOADER_MODULE,
        data_path=str(data),
        signature=signature(schema, output=OUTPUTS[_kind(_unwrap(model)[0])]),
        input_example=input_example(schema),
        pip_requirements=["riskstrat", f"lightgbm=={lightgbm.__version__}"],
    )
    return str(info.model_uri)


@dataclass(frozen=True)
class LoadedModel:
    """A registered model as loaded: the estimator, its design and its origin.

    ``version`` is the exact version resolved when loading (an alias can move
    later; a run records this version, never the alias). A risk model gives
    probabilities (:meth:`predict_proba`); a bed-days model (``kind ==
    "bed_days"``, registered as ``NAME-bed-days``) gives expected emergency bed
    days (:meth:`predict`).

    Attributes
    ----------
    model : RiskModel, CalibratedRiskModel or BedDaysModel
    name, version, run_id : str
    feature_schema : dict
        Names, types and order of the features it was trained on, with a hash.
    design : ModelDesign
        Cohort, dates, feature specification and model settings of training.
    reference : dict
        The training distribution of features and risk (for drift monitoring).
    """

    model: RiskModel | CalibratedRiskModel | BedDaysModel
    name: str
    version: str
    run_id: str
    feature_schema: dict
    design: ModelDesign
    reference: dict = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION``: this exact version."""
        return f"models:/{self.name}/{self.version}"

    @property
    def kind(self) -> str:
        """``"risk"`` or ``"bed_days"``."""
        return _kind(self.model)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities ``[1 - p, p]`` (a risk model only)."""
        if isinstance(self.model, BedDaysModel):
            raise TypeError(
                f"{self.name} v{self.version} is a bed-days model: it predicts "
                "expected bed days (predict, score_bed_days), not probabilities."
            )
        return self.model.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Expected emergency bed days next year (a bed-days model only)."""
        if not isinstance(self.model, BedDaysModel):
            raise TypeError(
                f"{self.name} v{self.version} is a risk model: use predict_proba "
                "(or score) for probabilities."
            )
        return self.model.predict(X)


def _check_mlmodel(text: str, ref: str) -> str:
    """The data folder named by an ``MLmodel`` file, if it is riskstrat's own.

    Anything else (another flavour, a ``python_model`` pickle, a loader module
    that is not riskstrat's, a data path leaving the model folder) is refused
    before a byte of it is read.
    """
    import yaml

    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        spec = None
    flavors = spec.get("flavors") if isinstance(spec, dict) else None
    pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
    if (
        not isinstance(flavors, dict)
        or not isinstance(pyfunc, dict)
        or set(flavors) != {"python_function"}
        or pyfunc.get("loader_module") != _LOADER_MODULE
        or pyfunc.get("data") != f"data/{DATA_DIR}"
        or any(k in pyfunc for k in ("python_model", "cloudpickle_version"))
    ):
        kinds = sorted(flavors) if isinstance(flavors, dict) else "unreadable"
        raise SchemaError(
            f"{ref} is not a riskstrat model (its MLmodel names {kinds}, loader "
            f"{(pyfunc or {}).get('loader_module')!r}); riskstrat loads only "
            f"models whose pyfunc loader is {_LOADER_MODULE} with data in "
            f"data/{DATA_DIR}, and never unpickles. Nothing was loaded."
        )
    return str(pyfunc["data"])


def load_model(ref: str, *, tracking_uri: str | None = None) -> LoadedModel:
    """Load ``NAME@ALIAS`` or ``NAME/VERSION`` from the registry, safely.

    The alias is resolved once to a version, which the result carries. The
    ``MLmodel`` file is read first (as YAML data) and must describe a riskstrat
    model; then its data folder is downloaded and only its five files are read:
    the trees from LightGBM's text format, the rest from JSON. Nothing is
    unpickled and no code from the artefact store runs.

    Raises
    ------
    ValueError
        A malformed reference or tracking URI, or no store at a local URI.
    SchemaError
        The registered model is not a riskstrat model.
    """
    import mlflow.artifacts

    if "@" in ref:
        name, alias = ref.split("@", 1)
    elif "/" in ref:
        name, alias = ref.split("/", 1)
    else:
        raise ValueError(
            f"Give a registered model as NAME@ALIAS or NAME/VERSION. Got {ref!r}."
        )
    uri = check_tracking_uri(tracking_uri or default_tracking_uri(), must_exist=True)
    mlflow = _mlflow(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    try:
        if "@" in ref:
            mv = client.get_model_version_by_alias(name, alias)
        else:
            mv = client.get_model_version(name, alias)
    except mlflow.exceptions.MlflowException as exc:
        raise LookupError(
            f"No registered model {ref!r} in the MLflow store {uri}: "
            f"{str(exc).splitlines()[0]}"
        ) from None
    root = client.get_model_version_download_uri(name, mv.version)
    with tempfile.TemporaryDirectory() as tmp:
        mlmodel = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{root}/MLmodel", dst_path=tmp, tracking_uri=uri
        )
        data = _check_mlmodel(Path(mlmodel).read_text(), ref)
        folder = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{root}/{data}",
            dst_path=str(Path(tmp) / "files"),
            tracking_uri=uri,
        )  # only the MODEL_FILES of it are read, as text
        model, info = model_from_files(Path(folder))
    return LoadedModel(
        model=model,
        name=name,
        version=str(mv.version),
        run_id=str(mv.run_id),
        feature_schema=info["feature_schema"],
        design=info["design"],
        reference=info["reference"],
    )


def load_bed_days_model(
    risk: LoadedModel, *, tracking_uri: str | None = None
) -> LoadedModel:
    """The bed-days model trained in the same run as the loaded risk model.

    It is registered as ``NAME-bed-days``; the version taken is the one logged
    by ``risk.run_id`` (not whatever an alias points to now), so a run pins a
    matching pair.

    Raises
    ------
    LookupError
        When that run registered no bed-days model (trained with
        ``bed_days=False``, or before bed-days models were registered).
    """
    uri = check_tracking_uri(tracking_uri or default_tracking_uri(), must_exist=True)
    name = risk.name + BED_DAYS_SUFFIX
    client = _mlflow(uri).MlflowClient(tracking_uri=uri)
    versions = client.search_model_versions(f"name = '{name}'")
    mine = sorted(
        (v for v in versions if v.run_id == risk.run_id), key=lambda v: int(v.version)
    )
    if not mine:
        raise LookupError(
            f"No bed-days model {name!r} was registered by the run of {risk.uri} "
            f"(run {risk.run_id}); retrain with bed days (riskstrat train "
            "--bed-days), or rank by risk."
        )
    return load_model(f"{name}/{mine[-1].version}", tracking_uri=uri)
