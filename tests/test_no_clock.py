"""Nothing in src/ reads the calendar clock except the CLI (STYLE rule 7)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "riskstrat"
CLOCK = re.compile(
    r"date\.today\(|datetime\.now\(|datetime\.utcnow\(|datetime\.today\(|"
    r"time\.time\(|Timestamp\.(now|today)\(|datetime64\(['\"]now|"
    r"time\.localtime\(|time\.gmtime\("
)


def test_no_clock_reads_outside_cli():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if CLOCK.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{lineno}: {line.strip()}")
    assert not offenders, "clock reads in src/:\n" + "\n".join(offenders)


def test_pattern_catches_a_clock_read():
    assert CLOCK.search("as_of = dt.date.today()")
    assert CLOCK.search("now = datetime.now(tz)")
    assert not CLOCK.search("tic = time.perf_counter()")
