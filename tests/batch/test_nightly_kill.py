"""A nightly run killed at any moment: earlier runs untouched, the re-run identical.

Each test starts ``riskstrat score`` as a real subprocess held inside one stage by a
fault drill (``RISKSTRAT_FAULT_DRILL_STAGE``) and SIGKILLs it there; kept apart from
``test_nightly.py`` so that the suite's workers can run both files at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from _support.nightly import D1, D2, DATA_FILES
from _support.nightly import digests as _digests
from riskstrat.batch import complete_runs, run_nightly
from riskstrat.batch._nightly import FAULT_DRILL_VARIABLE, STAGES


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
    # A fault drill holds the run inside the stage (publish, for one, takes
    # milliseconds): the kill lands there, not a moment later.
    drill = {**os.environ, FAULT_DRILL_VARIABLE: stage}
    proc = subprocess.Popen(
        _score(folder, out, uri, D2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=drill,
    )
    seen = ""
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        logs = list(out.glob(".building-*/run.log"))
        seen = logs[0].read_text() if logs else ""
        if f"fault drill: holding stage {stage}" in seen:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    else:
        proc.kill()
        proc.wait()
        pytest.fail(f"stage {stage!r} was never reached; the run log:\n{seen}")
    proc.wait()
    assert f"stage {stage}" in seen
    assert proc.returncode == -signal.SIGKILL, seen
    assert _digests(out / "runs") == before  # nothing of the killed run visible
    assert os.readlink(out / "latest") == latest
    assert [d for d, _ in complete_runs(out)] == [D1]
    # The next run clears the leftovers and completes as an uninterrupted one (in
    # this process: a second `riskstrat score` subprocess would only repeat the
    # start-up that the killed one already exercised).
    run_nightly(folder, as_of=D2, out=out, settings=settings)
    assert not list(out.glob(".building-*"))
    after = _digests(out / "runs")
    for name in DATA_FILES:
        key = f"2023-04-01/{name}"
        assert after[key] == reference[key], name
