"""The nightly run: published whole or not at all, identical on a re-run, refusals."""

from __future__ import annotations

import dataclasses
import json
import os

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from _support.canonical import VALID, write_folder
from _support.nightly import D1, D2, DATA_FILES
from _support.nightly import content as _content
from _support.nightly import digests as _digests
from riskstrat.batch import (
    RunLockedError,
    TooManyRejectsError,
    complete_runs,
    run_nightly,
)
from riskstrat.batch._publish import publish_lock
from riskstrat.exceptions import SchemaError
from riskstrat.features import FeatureSpec, build_cohort, build_features


def test_two_consecutive_nights(env, tmp_path):
    folder, settings, loaded = env
    first = run_nightly(folder, as_of=D1, out=tmp_path, settings=settings)
    second = run_nightly(folder, as_of=D2, out=tmp_path, settings=settings)
    assert first.previous is None and second.previous == first.folder
    assert [d for d, _ in complete_runs(tmp_path)] == [D1, D2]
    assert os.readlink(tmp_path / "latest") == "runs/2023-04-01"
    run = tmp_path / "runs" / "2023-04-01"
    for name in (*DATA_FILES, "rejects.csv", "manifest.json", "run.log"):
        assert (run / name).is_file(), name
    # Alerts: none on the first night (nothing to compare with), some on the second,
    # each naming an event between the two runs or a change of tier or risk.
    a1 = pq.read_table(first.folder / "alerts.parquet")
    a2 = pq.read_table(run / "alerts.parquet").to_pandas()
    assert a1.num_rows == 0
    m1 = json.loads((first.folder / "manifest.json").read_text())
    assert "no previous run" in m1["alerts"]["notice"]
    assert len(a2) > 0
    events = a2[a2.trigger.isin(["emergency_admission", "second_admission_12m"])]
    assert ((events.event_date >= D1) & (events.event_date < D2)).all()
    assert set(a2.previous_as_of) == {D1}
    # Caseloads fit the capacity: 0.2 FTE x 50 = 10 places less a 15 % reserve.
    cl = pq.read_table(run / "caseload.parquet").to_pandas()
    assert (cl.groupby("locality").size() <= 10).all()
    waiting = pq.read_table(run / "waiting.parquet").to_pandas()
    assert set(cl.patient_id).isdisjoint(waiting.patient_id)
    # Reasons: for the listed, waiting and alerted only, strongest first.
    why = pq.read_table(run / "reasons.parquet").to_pandas()
    shown = set(cl.patient_id) | set(waiting.patient_id) | set(a2.patient_id)
    assert set(why.patient_id) <= shown and len(why) > 0
    listed = cl[cl.reasons.map(len) > 0]
    assert len(listed) >= len(cl) // 2
    first = listed.iloc[0]
    texts = why[why.patient_id == first.patient_id].sort_values("rank").text
    assert list(first.reasons) == list(texts)
    scores = pq.read_table(run / "scores.parquet")
    assert set(scores["model_version"].to_pylist()) == {loaded.version}
    assert pc.min(scores["as_of"]).as_py() == D2
    manifest = json.loads((run / "manifest.json").read_text())
    assert list(manifest)[-1] == "environment"
    assert manifest["model"] == {
        "name": "risk",
        "version": loaded.version,
        "run_id": loaded.run_id,
        "feature_schema_hash": loaded.feature_schema["hash"],
    }
    assert manifest["previous_run"] == "2023-03-01"
    assert manifest["inputs"]["tables"]["patients"]["read"] > 0
    files = {f["file"] for f in manifest["inputs"]["files"]}
    assert {"patients.parquet", "_counts.parquet"} <= files
    assert manifest["outputs"]["scores.parquet"]["rows"] == scores.num_rows
    assert set(manifest["environment"]["seconds"]) >= {"open", "features", "score"}
    log = (run / "run.log").read_text()
    assert "stage features" in log and "stage publish" in log


def test_a_rerun_gives_byte_identical_data_files(env, tmp_path):
    folder, settings, _ = env
    run_nightly(folder, as_of=D1, out=tmp_path / "a", settings=settings)
    first = _digests(tmp_path / "a" / "runs")
    run_nightly(folder, as_of=D1, out=tmp_path / "a", settings=settings)
    run_nightly(folder, as_of=D1, out=tmp_path / "b", settings=settings)
    for other in (tmp_path / "a", tmp_path / "b"):
        again = _digests(other / "runs")
        for name in DATA_FILES:
            key = f"2023-03-01/{name}"
            assert again[key] == first[key], name
        assert _content(other / "runs" / "2023-03-01") == _content(
            tmp_path / "a" / "runs" / "2023-03-01"
        )


def test_a_mismatched_model_is_refused_and_nothing_published(env, tmp_path):
    folder, settings, _ = env
    other = build_features(
        folder, as_of=D1, spec=FeatureSpec(windows_days=(30, 91, 365, 730))
    )
    with pytest.raises(SchemaError, match=r"(?s)trained on.*\+em_admissions_30d"):
        run_nightly(folder, as_of=D1, out=tmp_path, settings=settings, features=other)
    assert complete_runs(tmp_path) == []
    assert not (tmp_path / "latest").exists()


def test_too_many_rejects_stop_the_run(tmp_path, env):
    _, settings, _ = env
    files = dict(VALID)
    files["admissions"] = VALID["admissions"] + "p404,2021-02-01,2021-02-02,true,,,\n"
    data = write_folder(tmp_path / "d", files)
    with (
        pytest.warns(Warning),
        pytest.raises(TooManyRejectsError, match=r"admissions: 1 of 4 rows rejected"),
    ):
        run_nightly(data, as_of=D1, out=tmp_path / "out", settings=settings)
    assert complete_runs(tmp_path / "out") == []


def test_a_second_run_on_the_same_out_is_refused(env, tmp_path):
    folder, settings, _ = env
    with publish_lock(tmp_path), pytest.raises(RunLockedError, match="is held"):
        run_nightly(folder, as_of=D1, out=tmp_path, settings=settings)


def test_monitoring_flags_a_population_shifted_on_purpose(env, tmp_path):
    folder, settings, loaded = env
    spec = loaded.design.feature_spec
    feats = build_cohort(folder, as_of=D1, spec=spec, min_age=18, labels=False)
    older = feats.set_column(
        feats.schema.get_field_index("age"),
        "age",
        pc.add(feats["age"], 25),
    )
    run_nightly(folder, as_of=D1, out=tmp_path / "same", settings=settings)
    run_nightly(
        folder, as_of=D1, out=tmp_path / "old", settings=settings, features=older
    )
    same = pq.read_table(tmp_path / "same/latest/monitoring.parquet").to_pandas()
    old = pq.read_table(tmp_path / "old/latest/monitoring.parquet").to_pandas()
    flagged = set(old.loc[old.flag, "name"])
    assert {"age", "risk"} <= flagged
    assert not same.loc[same.name == "age", "flag"].any()
    manifest = json.loads((tmp_path / "old/latest/manifest.json").read_text())
    assert "psi:age" in manifest["monitoring_flags"]


def test_ranking_by_expected_bed_days_uses_the_bed_days_model_of_the_run(env, tmp_path):
    from riskstrat.stratify import StratifySettings

    folder, settings, loaded = env
    settings = dataclasses.replace(
        settings, stratify=StratifySettings(priority="expected_bed_days")
    )
    run = run_nightly(folder, as_of=D2, out=tmp_path, settings=settings).folder
    manifest = json.loads((run / "manifest.json").read_text())
    beds = manifest["bed_days_model"]
    assert beds["name"] == "risk-bed-days" and beds["run_id"] == loaded.run_id
    expected = pq.read_table(run / "expected_bed_days.parquet")
    assert set(expected["model_version"].to_pylist()) == {beds["version"]}
    cl = pq.read_table(run / "caseload.parquet").to_pandas()
    new = cl[cl.status == "new"]
    assert len(new) and new.expected_bed_days.notna().all()
