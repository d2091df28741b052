"""Publishing a run folder all at once, or not at all, one writer at a time.

A nightly run writes ``OUT/runs/<as_of>/``. It builds everything in a hidden
folder under ``OUT/`` and moves it into place with one rename, then switches
``OUT/latest`` (a symbolic link) with one more. A run that fails or is killed
leaves every earlier run and ``latest`` as they were; what it left behind is
cleared by the next run. A lock file stops two runs writing the same ``OUT``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "RunLockedError",
    "complete_runs",
    "latest_run",
    "publish_lock",
    "publishing",
]

logger = logging.getLogger(__name__)

_BUILDING = ".building-"
_REPLACED = ".replaced-"
_LOCK = ".lock"


class RunLockedError(RuntimeError):
    """Another run holds the lock on the output folder."""


@contextlib.contextmanager
def publish_lock(out: Path, *, timeout: float = 0) -> Iterator[None]:
    """Hold ``OUT/.lock`` for the whole run; a second run fails at once.

    Raises
    ------
    RunLockedError
        When another process holds it.
    """
    from filelock import FileLock, Timeout

    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / _LOCK), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise RunLockedError(
            f"Another riskstrat run is writing to {out} (lock {out / _LOCK} is "
            "held); wait for it to finish. Nothing was written."
        ) from None
    try:
        yield
    finally:
        lock.release()


def _recover(out: Path) -> None:
    """Clear what a killed run left: half-built folders, a half-done swap."""
    runs = out / "runs"
    for path in sorted(out.glob(f"{_BUILDING}*")):
        shutil.rmtree(path, ignore_errors=True)
        logger.warning("cleared %s left by a run that did not finish", path.name)
    if not runs.is_dir():
        return
    for old in sorted(runs.glob(f"{_REPLACED}*")):
        name = old.name.removeprefix(_REPLACED).split(".", 1)[0]
        target = runs / name
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:  # killed between the two renames of a re-run: put the old one back
            os.rename(old, target)
            logger.warning("restored %s after an interrupted re-run", name)
    for tmp in runs.parent.glob("latest.tmp-*"):
        tmp.unlink(missing_ok=True)


def complete_runs(out: Path) -> list[tuple[dt.date, Path]]:
    """Published runs under ``OUT/runs``, oldest first."""
    runs = out / "runs"
    found = []
    if runs.is_dir():
        for path in runs.iterdir():
            if path.name.startswith("."):
                continue
            try:
                day = dt.date.fromisoformat(path.name)
            except ValueError:
                continue
            if (path / "manifest.json").is_file():
                found.append((day, path))
    return sorted(found)


def latest_run(out: Path, *, before: dt.date | None = None) -> Path | None:
    """The newest complete run (with an ``as_of`` before ``before``), or None."""
    runs = [p for day, p in complete_runs(out) if before is None or day < before]
    return runs[-1] if runs else None


def _switch_latest(out: Path, target: Path) -> None:
    tmp = out / f"latest.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(out), target_is_directory=True)
    os.replace(tmp, out / "latest")


@contextlib.contextmanager
def publishing(out: Path, as_of: dt.date, *, keep: int = 60) -> Iterator[Path]:
    """A fresh folder to build a run in, published as ``OUT/runs/<as_of>`` on success.

    The caller holds :func:`publish_lock`. On leaving the block without error the
    folder is renamed into place (a re-run of the same date replaces the earlier
    one), ``OUT/latest`` is switched to the newest complete run, and runs beyond
    the newest ``keep`` are removed. On an error nothing is published and the
    half-built folder is removed.
    """
    if keep < 1:
        raise ValueError(f"`keep` must be >= 1. Got {keep!r} instead.")
    _recover(out)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    building = out / f"{_BUILDING}{as_of.isoformat()}.{os.getpid()}"
    building.mkdir()
    try:
        yield building
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    target = runs / as_of.isoformat()
    if target.exists():
        old = runs / f"{_REPLACED}{as_of.isoformat()}.{os.getpid()}"
        os.rename(target, old)
        os.rename(building, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(building, target)
    done = complete_runs(out)
    for _, path in done[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    newest = latest_run(out)
    if newest is not None:
        _switch_latest(out, newest)
    logger.info("published %s", target)
