"""The registered model is an MLflow pyfunc any MLflow user can call, and loading is safe."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from riskstrat.exceptions import SchemaError
from riskstrat.features import build_features
from riskstrat.model import load_model, score

AS_OF = dt.date(2023, 4, 1)


@pytest.fixture(scope="module")
def scored(registered):
    pop, uri, loaded = registered
    feats = build_features(pop.tables, as_of=AS_OF, spec=loaded.design.feature_spec)
    return feats, score(loaded, feats), uri, loaded


def test_pyfunc_predicts_on_the_feature_table_as_score_does(scored):
    import mlflow

    feats, s, uri, loaded = scored
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(f"models:/{loaded.name}/{loaded.version}")
    # The three lines of the README.
    risk = model.predict(feats.to_pandas())
    np.testing.assert_allclose(risk, s["risk"].to_numpy(), rtol=0, atol=1e-12)
    # Without the key columns too: they are optional in the signature.
    risk = model.predict(feats.drop_columns(["patient_id", "as_of"]).to_pandas())
    np.testing.assert_allclose(risk, s["risk"].to_numpy(), rtol=0, atol=1e-12)


def test_signature_is_column_based_with_an_input_example(scored):
    import mlflow

    feats, _, uri, loaded = scored
    mlflow.set_tracking_uri(uri)
    info = mlflow.models.get_model_info(f"models:/{loaded.name}/{loaded.version}")
    inputs = info.signature.inputs
    assert inputs.input_names() == feats.column_names
    types = {c.name: str(c.type) for c in inputs.inputs}
    assert types["sex"] == "DataType.string" and types["in_hospital"].endswith(
        "boolean"
    )
    assert not inputs.inputs[0].required  # patient_id may be left out
    example = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{loaded.name}/{loaded.version}/input_example.json"
    )
    text = Path(example).read_text()
    assert "example" in text and "p0" not in text  # made up, no person's row
    assert json.loads(text)


@pytest.mark.spark
def test_spark_udf_gives_the_same_numbers(scored):
    import mlflow
    from pyspark.sql import functions as F

    from riskstrat.features import spark_session

    feats, s, uri, loaded = scored
    mlflow.set_tracking_uri(uri)
    spark = spark_session()
    small = feats.slice(0, 200)
    # One partition: one Python worker loads the model (each worker's start-up
    # and model load cost seconds; more of them would test nothing more).
    df = spark.createDataFrame(small.to_pandas()).coalesce(1)
    udf = mlflow.pyfunc.spark_udf(
        spark,
        f"models:/{loaded.name}/{loaded.version}",
        result_type="double",
        env_manager="local",
    )
    out = df.select("patient_id", udf(F.struct(*df.columns)).alias("risk"))
    got = out.toPandas().set_index("patient_id")["risk"]
    want = s.to_pandas().set_index("patient_id")["risk"].loc[got.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


class _Touch:
    """Unpickling this creates a file: what an attacker's pickle would do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _register_folder(uri: str, folder: Path, name: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(uri)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), artifact_path="model")
    mlflow.register_model(f"runs:/{run.info.run_id}/model", name)


def test_load_model_refuses_a_pickle_and_runs_nothing(tmp_path, mlflow_store):
    uri = mlflow_store(tmp_path / "mlflow.db")
    marker = tmp_path / "pwned"
    folder = tmp_path / "evil"
    folder.mkdir()
    payload = pickle.dumps(_Touch(str(marker)))
    (folder / "python_model.pkl").write_bytes(payload)
    (folder / "MLmodel").write_text(
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: mlflow.pyfunc.model\n"
        "    python_model: python_model.pkl\n"
        "    cloudpickle_version: 3.0.0\n"
    )
    _register_folder(uri, folder, "evil")
    with pytest.raises(SchemaError, match="not a riskstrat model") as err:
        load_model("evil/1", tracking_uri=uri)
    assert "never unpickles" in str(err.value)
    assert not marker.exists()
    pickle.loads(payload)  # the file it refused would indeed have run code
    assert marker.exists()


@pytest.mark.parametrize(
    "mlmodel",
    [
        "flavors:\n  python_function:\n    loader_module: riskstrat.model._pyfunc\n"
        "    data: ../../elsewhere\n",
        "flavors:\n  python_function:\n    loader_module: riskstrat.model._pyfunc\n"
        "    data: data/riskstrat\n  lightgbm:\n    data: model.pkl\n",
        "flavors: [not, a, mapping]\n",
        "{{{ not yaml",
    ],
    ids=["data-escapes", "second-flavour", "no-mapping", "not-yaml"],
)
def test_load_model_refuses_any_other_mlmodel(tmp_path, mlmodel, mlflow_store):
    uri = mlflow_store(tmp_path / "mlflow.db")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "MLmodel").write_text(mlmodel)
    _register_folder(uri, folder, "odd")
    with pytest.raises(SchemaError, match="not a riskstrat model"):
        load_model("odd/1", tracking_uri=uri)


def test_missing_model_and_mistyped_store_are_named(tmp_path, registered):
    _, uri, _ = registered
    with pytest.raises(LookupError, match="No registered model 'nope@champion'"):
        load_model("nope@champion", tracking_uri=uri)
    typo = f"sqlite:///{tmp_path / 'mlfow.db'}"
    with pytest.raises(ValueError, match="There is no MLflow store"):
        load_model("risk@champion", tracking_uri=typo)
    assert not (tmp_path / "mlfow.db").exists()  # no empty store was created
