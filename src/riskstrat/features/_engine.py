"""Run the feature SQL on DuckDB (embedded default) or Apache Spark."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["Engine", "run_sql"]

logger = logging.getLogger(__name__)

Engine = Literal["duckdb", "spark"]

_SPARK_IMPORT_ERROR = (
    "Install riskstrat[spark] to run features on Spark (pyspark, and Java 17 on "
    "the machine)."
)


def _normalise(result: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast to ``schema`` (same names, order and types from either engine), sorted."""
    missing = [n for n in schema.names if n not in result.column_names]
    if missing:
        raise RuntimeError(f"feature SQL did not produce columns {missing}")
    cols = []
    for field in schema:
        col = result[field.name]
        if pa.types.is_boolean(field.type) and not pa.types.is_boolean(col.type):
            col = pc.not_equal(col, 0)
        cols.append(col.cast(field.type))
    out = pa.Table.from_arrays(cols, schema=schema)
    return out.sort_by([("patient_id", "ascending")])


def run_sql(
    sql: str,
    inputs: dict[str, pa.Table],
    schema: pa.Schema,
    *,
    engine: Engine = "duckdb",
    spark=None,
) -> pa.Table:
    """Execute ``sql`` over ``inputs`` (view name -> Arrow table) on ``engine``."""
    if engine == "duckdb":
        return _normalise(_run_duckdb(sql, inputs), schema)
    if engine == "spark":
        return _normalise(_run_spark(sql, inputs, spark), schema)
    raise ValueError(
        f"The `engine` parameter must be 'duckdb' or 'spark'. Got {engine!r} instead."
    )


def _run_duckdb(sql: str, inputs: dict[str, pa.Table]) -> pa.Table:
    con = duckdb.connect()
    try:
        threads = os.cpu_count() or 1
        con.execute(f"SET threads TO {threads}")
        for name, table in inputs.items():
            con.register(name, table)
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def spark_session(master: str | None = None):
    """A SparkSession: the active one, or a local one (``local[2]``, UI off).

    Any cluster is reached by ``master`` (e.g. ``spark://host:7077``) or the
    ``SPARK_MASTER`` environment variable.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ImportError(_SPARK_IMPORT_ERROR) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warehouse = tempfile.mkdtemp(prefix="riskstrat-spark-")
    return (
        SparkSession.builder.master(
            master or os.environ.get("SPARK_MASTER", "local[2]")
        )
        .appName("riskstrat")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def _run_spark(sql: str, inputs: dict[str, pa.Table], spark) -> pa.Table:
    import sqlglot

    spark = spark or spark_session()
    spark_sql = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    with tempfile.TemporaryDirectory(prefix="riskstrat-spark-in-") as tmp:
        for name, table in inputs.items():
            path = Path(tmp) / f"{name}.parquet"
            pq.write_table(table, path)
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        result = spark.sql(spark_sql).toArrow()
    return result
