"""Engine choice, output contract (schema, order, determinism), inputs and errors."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import pyarrow as pa
import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import FeatureSpec, build_features, feature_schema, make_labels

D = dt.date
AS_OF = D(2022, 4, 1)


@pytest.fixture(scope="module")
def tables():
    return tables_from_rows(
        patients=[
            {"patient_id": pid, "birth_date": D(1945, 6, 1), "sex": "male"}
            for pid in ("p10", "p02", "p3", "p01")  # not in sorted order
        ],
        admissions=[
            {
                "patient_id": "p3",
                "admission_date": D(2022, 2, 1),
                "discharge_date": D(2022, 2, 4),
                "emergency": True,
                "primary_diagnosis": "I500",
            },
            {
                "patient_id": "p10",
                "admission_date": D(2021, 9, 1),
                "discharge_date": None,
                "emergency": None,
            },
        ],
        prescriptions=[
            {"patient_id": "p02", "issue_date": D(2022, 3, 1), "drug_code": "0205051R0"}
        ],
    )


def test_output_has_the_declared_schema_and_is_sorted(tables):
    out = build_features(tables, as_of=AS_OF)
    assert out.schema.equals(feature_schema(FeatureSpec()))
    assert out["patient_id"].to_pylist() == ["p01", "p02", "p10", "p3"]


def test_a_rerun_gives_identical_output(tables):
    assert build_features(tables, as_of=AS_OF).equals(
        build_features(tables, as_of=AS_OF)
    )


def test_a_parquet_folder_gives_the_same_features_as_memory(tables, tmp_path):
    folder = tables.to_parquet(tmp_path / "canonical")
    from_disk = build_features(folder, as_of=AS_OF)
    assert from_disk.equals(build_features(tables, as_of=AS_OF))
    assert make_labels(folder, as_of=AS_OF).equals(make_labels(tables, as_of=AS_OF))


def test_a_build_logs_one_info_line_with_counts(tables, caplog):
    with caplog.at_level(logging.INFO, logger="riskstrat.features"):
        build_features(tables, as_of=AS_OF)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 1 and "4 people" in lines[0] and "duckdb" in lines[0]


def test_spark_without_pyspark_says_how_to_install(tables, monkeypatch):
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    with pytest.raises(
        ImportError, match=r"^Install riskstrat\[spark\] to run features on Spark"
    ) as info:
        build_features(tables, as_of=AS_OF, engine="spark")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_unknown_engine_is_refused(tables):
    with pytest.raises(
        ValueError, match="`engine` parameter must be 'duckdb' or 'spark'"
    ):
        build_features(tables, as_of=AS_OF, engine="polars")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [dt.datetime(2022, 4, 1), "2022-04-01", None])
def test_as_of_must_be_a_date(tables, bad):
    with pytest.raises(TypeError, match=r"`as_of` must be a datetime\.date"):
        build_features(tables, as_of=bad)
    with pytest.raises(TypeError, match=r"`as_of` must be a datetime\.date"):
        make_labels(tables, as_of=bad)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_horizon_must_be_a_positive_int(tables, bad):
    with pytest.raises(ValueError, match="`horizon_days` parameter of make_labels"):
        make_labels(tables, as_of=AS_OF, horizon_days=bad)


def test_tables_must_be_tables_or_a_folder():
    with pytest.raises(TypeError, match=r"must be a riskstrat\.sources\.Tables"):
        build_features({"patients": pa.table({"x": [1]})}, as_of=AS_OF)
