"""``riskstrat impact`` refuses what it cannot evaluate, with one clear line."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from _support.canonical import VALID, write_folder
from riskstrat.cli import app

runner = CliRunner()


def _plain(output: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def _run(*args):
    return runner.invoke(app, ["impact", *args])


def test_no_enrolments_table_is_a_clear_error(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "enrolments"}
    data = write_folder(tmp_path / "data", files)
    r = _run(
        "--data", str(data), "--out", str(tmp_path / "out"), "--as-of", "2022-12-01"
    )
    assert r.exit_code == 2
    assert "no enrolments table" in _plain(r.output)
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_nobody_with_a_year_of_follow_up_is_a_clear_error(tmp_path):
    data = write_folder(tmp_path / "data", VALID)  # p1 enrolled 2021-08-01
    r = _run(
        "--data", str(data), "--out", str(tmp_path / "out"), "--as-of", "2022-01-01"
    )
    assert r.exit_code == 2
    assert "365 days of follow-up" in _plain(r.output)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--cost-per-bed-day", "-5", "cost-per-bed-day"),
        ("--as-of", "2022-13-01", "YYYY-MM-DD"),
        ("--bootstraps", "-1", "n_bootstraps"),
        ("--controls", "everyone", "'not_enrolled' or 'declined'"),
    ],
)
def test_bad_options_are_refused_before_any_work(tmp_path, option, value, message):
    data = write_folder(tmp_path / "data", VALID)
    r = _run("--data", str(data), "--out", str(tmp_path / "out"), option, value)
    assert r.exit_code == 2
    assert message in _plain(r.output)


def test_a_missing_folder_is_a_clear_error(tmp_path):
    r = _run("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 2
    assert "Traceback" not in r.output


def test_declined_controls_without_screenings_is_a_clear_error(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "screenings"}
    data = write_folder(tmp_path / "data", files)
    r = _run(
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--as-of",
        "2022-12-01",
        "--controls",
        "declined",
    )
    assert r.exit_code == 2
    assert "needs the screenings table" in _plain(r.output)
    assert "Traceback" not in r.output
