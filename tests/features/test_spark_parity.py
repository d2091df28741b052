"""Spark and DuckDB give identical feature and label tables (Java 17 + pyspark)."""

from __future__ import annotations

import datetime as dt

import pytest

from riskstrat.features import build_features, make_labels

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from riskstrat.features import spark_session

    session = spark_session()  # the worker's one session, shared with other files
    session.sparkContext.setLogLevel("ERROR")
    return session


def test_identical_features_and_labels_on_a_synthetic_population(
    spark, cached_population
):
    pop = cached_population(4_000, random_state=5)
    for as_of in (dt.date(2021, 10, 1), dt.date(2022, 4, 1)):
        duck = build_features(pop.tables, as_of=as_of)
        sprk = build_features(pop.tables, as_of=as_of, engine="spark", spark=spark)
        assert duck.schema.equals(sprk.schema)
        for name in duck.column_names:
            assert duck[name].equals(sprk[name]), name
        assert duck.num_rows > 3_000
        y_duck = make_labels(pop.tables, as_of=as_of)
        y_spark = make_labels(pop.tables, as_of=as_of, engine="spark", spark=spark)
        assert y_duck.equals(y_spark)
