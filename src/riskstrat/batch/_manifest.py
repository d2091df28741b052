"""The run manifest: what went in, what came out, and with which model.

``manifest.json`` has two parts. Everything but ``environment`` is a function of
the inputs, the model and the settings, so a re-run for the same date writes the
same bytes there; ``environment`` holds what differs between runs of the same
inputs (timings, host, user).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["file_digest", "input_files", "manifest_text"]

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def input_files(path: Path) -> list[dict[str, Any]]:
    """Every file of an input (a folder, recursively, or one file) with its digest.

    Hidden files and folders (names starting with ``.``) are left out. Paths are
    relative to the input and sorted, so the list does not depend on where the
    input sits or the order the file system lists it.
    """
    path = Path(path)
    if path.is_file():
        files = [path]
        root = path.parent
    else:
        root = path
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [
        {
            "file": p.relative_to(root).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": file_digest(p),
        }
        for p in files
    ]


def environment() -> dict[str, Any]:
    """Host, user and interpreter (the part of a manifest that varies by machine)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {
        "host": socket.gethostname(),
        "user": user,
        "python": platform.python_version(),
        "pid": os.getpid(),
    }


def manifest_text(
    content: Mapping[str, Any], *, timings: Mapping[str, float], extra_env=None
) -> str:
    """The manifest as JSON: sorted keys, the environment section last.

    Parameters
    ----------
    content : mapping
        The deterministic part (as_of, inputs, rejects, model, outputs, settings).
    timings : mapping of str to float
        Seconds per stage.
    extra_env : mapping, optional
        More environment facts (e.g. the start time the CLI read).
    """
    env = {**environment(), **(extra_env or {})}
    env["seconds"] = {k: round(float(v), 3) for k, v in timings.items()}
    body = json.loads(json.dumps(dict(content), sort_keys=True, default=str))
    body["environment"] = env
    return json.dumps(body, indent=2, sort_keys=False, default=str) + "\n"
