"""What the nightly-run tests share: dates, data files, an input folder, digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

D1, D2 = dt.date(2023, 3, 1), dt.date(2023, 4, 1)
#: The data files a run writes that must be byte-identical on a re-run.
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


def nightly_env(registered, folder: Path):
    """Write the registered model's population and a localities file into ``folder``.

    Returns ``(population folder, NightlySettings, LoadedModel)``.
    """
    from riskstrat.batch import NightlySettings

    pop, uri, loaded = registered
    data = folder / "pop"
    pop.write(data)
    localities = folder / "localities.csv"
    localities.write_text(LOCALITIES)
    settings = NightlySettings(
        model="risk@champion", tracking_uri=uri, localities=localities
    )
    return data, settings, loaded


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (the lock file aside)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def content(folder: Path) -> dict:
    """A run's manifest without its environment (timings, host, user) section."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("environment")
    return manifest
