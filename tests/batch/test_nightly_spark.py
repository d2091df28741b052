"""The nightly run on Spark gives what it gives on DuckDB."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from _support.nightly import D1, D2, DATA_FILES
from _support.nightly import digests as _digests
from riskstrat.batch import run_nightly
from riskstrat.features import build_features


@pytest.mark.spark
def test_spark_gives_the_same_scores_caseloads_and_alerts(env, tmp_path):
    # The first night (DuckDB) is the previous run of both second nights, so the
    # second night's alerts are compared too; every stage of it runs on Spark.
    pytest.importorskip("pyspark")
    folder, settings, _ = env
    spark = dataclasses.replace(settings, engine="spark")
    run_nightly(folder, as_of=D1, out=tmp_path / "duck", settings=settings)
    shutil.copytree(tmp_path / "duck", tmp_path / "spark", symlinks=True)
    run_nightly(folder, as_of=D2, out=tmp_path / "duck", settings=settings)
    run_nightly(folder, as_of=D2, out=tmp_path / "spark", settings=spark)
    a = _digests(tmp_path / "duck" / "runs")
    b = _digests(tmp_path / "spark" / "runs")
    day = D2.isoformat()
    for name in DATA_FILES:
        assert a[f"{day}/{name}"] == b[f"{day}/{name}"], name
    manifest = tmp_path / "spark" / "runs" / day / "manifest.json"
    assert json.loads(manifest.read_text())["settings"]["engine"] == "spark"


@pytest.mark.spark
def test_score_spark_equals_score(registered):
    pytest.importorskip("pyspark")
    from riskstrat.features import spark_session
    from riskstrat.model import score, score_spark

    pop, _, loaded = registered
    feats = build_features(pop.tables, as_of=D2, spec=loaded.design.feature_spec)
    spark = spark_session()
    got = score_spark(loaded, spark.createDataFrame(feats)).toPandas()
    want = score(loaded, feats).to_pandas()
    got = got.sort_values("patient_id").reset_index(drop=True)
    assert (got["patient_id"] == want["patient_id"]).all()
    assert (got["risk"] - want["risk"]).abs().max() < 1e-12
    assert set(got["model_version"]) == {loaded.version}
