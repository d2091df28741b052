"""The nightly run: published whole or not at all, identical on a re-run, refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from _support.canonical import VALID, write_folder
from riskstrat.batch import (
    NightlySettings,
    RunLockedError,
    TooManyRejectsError,
    complete_runs,
    run_nightly,
)
from riskstrat.batch._nightly import STAGES
from riskstrat.batch._publish import publish_lock
from riskstrat.exceptions import SchemaError
from riskstrat.features import FeatureSpec, build_cohort, build_features

D1, D2 = dt.date(2023, 3, 1), dt.date(2023, 4, 1)
DATA_FILES = (
    "scores.parquet",
    "scores.csv",
    "rejects.parquet",
    "monitoring.parquet",
    "caseload.parquet",
    "caseload.csv",
    "waiting.parquet",
    "alerts.parquet",
    "alerts.csv",
    "tiers.parquet",
    "reasons.parquet",
    "reasons.csv",
)
LOCALITIES = """locality,case_managers_fte,caseload_per_fte,reserve_share
West Essex,0.2,50,0.15
North East Essex,0.2,50,0.15
Mid Essex,0.2,50,0.15
South West Essex,0.2,50,0.15
South East Essex,0.2,50,0.15
"""


@pytest.fixture(scope="module")
def env(registered, tmp_path_factory):
    pop, uri, loaded = registered
    folder = tmp_path_factory.mktemp("nightly") / "pop"
    pop.write(folder)
    localities = folder.parent / "localities.csv"
    localities.write_text(LOCALITIES)
    settings = NightlySettings(
        model="risk@champion", tracking_uri=uri, localities=localities
    )
    return folder, settings, loaded


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _content(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("environment")
    return manifest


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


# --- killed at any moment: earlier runs untouched, re-run identical ------------


def _score(folder, out, uri, day):
    return [
        sys.executable, "-c", "from riskstrat.cli import main; main()",
        "score", "--data", str(folder), "--out", str(out), "--as-of", day.isoformat(),
        "--model", "risk@champion", "--tracking-uri", uri,
        "--localities", str(folder.parent / "localities.csv"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(env, tmp_path_factory):
    """An OUT holding the first night's run, and the second night's data files."""
    folder, settings, _ = env
    template = tmp_path_factory.mktemp("template")
    run_nightly(folder, as_of=D1, out=template, settings=settings)
    clean = tmp_path_factory.mktemp("clean")
    shutil.copytree(template, clean, dirs_exist_ok=True, symlinks=True)
    run_nightly(folder, as_of=D2, out=clean, settings=settings)
    return template, _digests(clean / "runs")


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_in_any_stage_leaves_earlier_runs_untouched(
    env, uninterrupted, tmp_path, stage
):
    folder, settings, _ = env
    template, reference = uninterrupted
    uri = settings.tracking_uri
    out = tmp_path / "out"
    shutil.copytree(template, out, symlinks=True)
    before = _digests(out / "runs")
    latest = os.readlink(out / "latest")
    proc = subprocess.Popen(
        _score(folder, out, uri, D2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = ""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        logs = list(out.glob(".building-*/run.log"))
        seen = logs[0].read_text() if logs else ""
        if f"stage {stage}" in seen:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    if proc.returncode == 0:
        pytest.skip(f"the run finished before stage {stage!r} was seen")
    assert proc.returncode == -signal.SIGKILL, seen
    assert _digests(out / "runs") == before  # nothing of the killed run visible
    assert os.readlink(out / "latest") == latest
    assert [d for d, _ in complete_runs(out)] == [D1]
    # The next run clears the leftovers and completes as an uninterrupted one.
    rerun = subprocess.run(_score(folder, out, uri, D2), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(out.glob(".building-*"))
    after = _digests(out / "runs")
    for name in DATA_FILES:
        key = f"2023-04-01/{name}"
        assert after[key] == reference[key], name


@pytest.mark.spark
def test_spark_gives_the_same_scores_caseloads_and_alerts(env, tmp_path):
    pytest.importorskip("pyspark")
    folder, settings, _ = env
    spark = dataclasses.replace(settings, engine="spark")
    for day in (D1, D2):
        run_nightly(folder, as_of=day, out=tmp_path / "duck", settings=settings)
        run_nightly(folder, as_of=day, out=tmp_path / "spark", settings=spark)
    a = _digests(tmp_path / "duck" / "runs")
    b = _digests(tmp_path / "spark" / "runs")
    for name in DATA_FILES:
        assert a[f"2023-04-01/{name}"] == b[f"2023-04-01/{name}"], name


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
