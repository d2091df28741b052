"""Publishing a run: all at once or not at all, one writer, leftovers cleared."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from riskstrat.batch import RunLockedError, complete_runs, latest_run
from riskstrat.batch._publish import publish_lock, publishing

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


def _publish(out, day, text, **kw):
    with publishing(out, day, **kw) as folder:
        (folder / "data.txt").write_text(text)
        (folder / "manifest.json").write_text("{}")


def test_a_published_run_and_latest(tmp_path):
    _publish(tmp_path, D1, "one")
    _publish(tmp_path, D2, "two")
    assert [d for d, _ in complete_runs(tmp_path)] == [D1, D2]
    assert (tmp_path / "latest" / "data.txt").read_text() == "two"
    assert os.readlink(tmp_path / "latest") == "runs/2024-01-02"
    assert latest_run(tmp_path, before=D2).name == "2024-01-01"
    # A re-run of an older date replaces that run; latest stays on the newest.
    _publish(tmp_path, D1, "one again")
    assert (tmp_path / "runs" / "2024-01-01" / "data.txt").read_text() == "one again"
    assert (tmp_path / "latest" / "data.txt").read_text() == "two"


def test_a_failed_run_publishes_nothing_and_leaves_no_trace(tmp_path):
    _publish(tmp_path, D1, "one")
    with pytest.raises(RuntimeError, match="boom"), publishing(tmp_path, D2) as f:
        (f / "data.txt").write_text("half")
        raise RuntimeError("boom")
    assert [d for d, _ in complete_runs(tmp_path)] == [D1]
    assert (tmp_path / "latest" / "data.txt").read_text() == "one"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building")]


def test_leftovers_of_a_killed_run_are_cleared_and_an_interrupted_swap_undone(
    tmp_path,
):
    _publish(tmp_path, D1, "one")
    # What a kill leaves: a half-built folder, and a re-run killed between renames.
    (tmp_path / ".building-2024-01-02.999").mkdir()
    runs = tmp_path / "runs"
    os.rename(runs / "2024-01-01", runs / ".replaced-2024-01-01.999")
    assert latest_run(tmp_path) is None  # the run is hidden until recovered
    _publish(tmp_path, D2, "two")
    assert [d for d, _ in complete_runs(tmp_path)] == [D1, D2]
    assert (runs / "2024-01-01" / "data.txt").read_text() == "one"
    assert not list(tmp_path.glob(".building-*"))
    assert not list(runs.glob(".replaced-*"))


def test_only_the_newest_runs_are_kept(tmp_path):
    for k in range(5):
        _publish(tmp_path, D1 + dt.timedelta(days=k), str(k), keep=3)
    assert [d.day for d, _ in complete_runs(tmp_path)] == [3, 4, 5]


def test_a_second_writer_is_refused_at_once(tmp_path):
    second = publish_lock(tmp_path)
    with publish_lock(tmp_path), pytest.raises(RunLockedError, match="is held"):
        second.__enter__()
    with publish_lock(tmp_path):  # released: free again
        pass
