"""The registered model as an MLflow ``python_function`` any MLflow user can call.

The model folder MLflow stores holds ``data/riskstrat/``: ``model.lgb``
(LightGBM's text format), ``model.json`` (column roles, categories, calibration
map), ``model_design.json`` and ``feature_schema.json`` — plain text and
numbers. Its ``MLmodel`` names this module as the pyfunc ``loader_module``, so
``mlflow.pyfunc.load_model(...)`` and ``mlflow.pyfunc.spark_udf(...)`` rebuild the
model from those files by importing installed code: nothing is unpickled, and no
code travels inside the artefact.

The signature is column-based: every feature by name, in the trained order.
Text columns are ``string``, flags ``boolean``, shares ``double``; counts are
declared ``any`` because a count a source cannot support is null, and pandas
then holds the column as float64 while MLflow refuses both int→double and
float→long (decision 0015). The key columns (``patient_id``, ``as_of``) are
optional and ignored. ``predict`` returns the calibrated risk per input row —
or, for the bed-days model registered beside it (``NAME-bed-days``, a LightGBM
Tweedie regressor with the same files and the same loader), the expected
emergency bed days in the next year.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

__all__: list[str] = []

#: Name of the folder inside the MLflow model that holds riskstrat's files.
DATA_DIR = "riskstrat"
#: The files of that folder, and nothing else, are read when loading.
MODEL_FILES = (
    "model.lgb",
    "model.json",
    "model_design.json",
    "feature_schema.json",
    "reference.json",
)
KEY_COLUMNS = ("patient_id", "as_of")


#: The output column of each kind of model (``model.json``'s ``kind``).
OUTPUTS = {"risk": "risk", "bed_days": "expected_bed_days"}


def signature(schema: pa.Schema, *, output: str = "risk"):
    """Column-based MLflow signature of a feature table's Arrow schema."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec
    from mlflow.types.schema import AnyType

    cols: list[ColSpec | TensorSpec] = []
    for f in schema:
        if f.name in KEY_COLUMNS:
            kind = "datetime" if pa.types.is_date(f.type) else "string"
            cols.append(ColSpec(kind, f.name, required=False))
        elif pa.types.is_string(f.type) or pa.types.is_dictionary(f.type):
            cols.append(ColSpec("string", f.name))
        elif pa.types.is_boolean(f.type):
            cols.append(ColSpec("boolean", f.name))
        elif pa.types.is_floating(f.type):
            cols.append(ColSpec("double", f.name))
        else:  # integers: may be null (unknown), see the module docstring
            cols.append(ColSpec(AnyType(), f.name))
    return ModelSignature(
        inputs=Schema(cols), outputs=Schema([ColSpec("double", output)])
    )


def input_example(schema: pa.Schema) -> pd.DataFrame:
    """One made-up row (no person's data): zeros, false, and missing text."""
    row: dict[str, object] = {}
    for f in schema:
        if f.name == "patient_id":
            row[f.name] = "example"
        elif f.name == "as_of":
            continue  # optional; JSON has no date type
        elif pa.types.is_string(f.type) or pa.types.is_dictionary(f.type):
            row[f.name] = None
        elif pa.types.is_boolean(f.type):
            row[f.name] = False
        elif pa.types.is_floating(f.type):
            row[f.name] = 0.0
        else:
            row[f.name] = 0
    return pd.DataFrame([row])


class RiskPyfunc:
    """What ``mlflow.pyfunc.load_model`` returns inside its wrapper."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, model_input, params=None) -> np.ndarray:
        """Calibrated risk (or expected bed days) for each row of a feature table."""
        df = model_input
        if isinstance(df, pa.Table):
            df = df.to_pandas()
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        if hasattr(self.model, "predict_proba"):
            return np.asarray(self.model.predict_proba(df)[:, 1], dtype=np.float64)
        return np.asarray(self.model.predict(df), dtype=np.float64)


def _load_pyfunc(data_path: str) -> RiskPyfunc:
    """MLflow's hook: rebuild the model from the text files in ``data_path``."""
    from riskstrat.model._registry import model_from_files

    model, _ = model_from_files(Path(data_path))
    return RiskPyfunc(model)


def _json_default(o: object) -> str:
    if isinstance(o, dt.date):
        return o.isoformat()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def dumps(obj: object) -> str:
    """Deterministic JSON for the model files."""
    return json.dumps(obj, indent=2, sort_keys=True, default=_json_default)
