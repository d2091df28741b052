"""Shared fixtures.

``random_seed``: tests that take it must pass for any seed in 0-99. By default they
run with seed 0; set ``RISKSTRAT_TEST_SEEDS`` to ``"all"`` (0-99), a range
``"3-7"`` or a list ``"1,5,42"`` to run them over other seeds. A failure prints the
seed and the command that reproduces it.
"""

from __future__ import annotations

import os

import pytest


def _seeds() -> list[int]:
    spec = os.environ.get("RISKSTRAT_TEST_SEEDS", "0").strip()
    if spec == "all":
        return list(range(100))
    if "-" in spec:
        lo, hi = (int(s) for s in spec.split("-"))
        return list(range(lo, hi + 1))
    return [int(s) for s in spec.split(",")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "random_seed" in metafunc.fixturenames:
        metafunc.parametrize("random_seed", _seeds(), ids=lambda s: f"seed{s}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    seed = getattr(item, "callspec", None) and item.callspec.params.get("random_seed")
    if report.failed and seed is not None and call.when == "call":
        report.sections.append(
            (
                "reproduce",
                f"RISKSTRAT_TEST_SEEDS={seed} pytest '{item.nodeid}'",
            )
        )
    return report
