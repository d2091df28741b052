"""Shared fixtures.

``random_seed``: tests that take it must pass for any seed in 0-99. By default they
run with seed 0; set ``RISKSTRAT_TEST_SEEDS`` to ``"all"`` (0-99), a range
``"3-7"`` or a list ``"1,5,42"`` to run them over other seeds. A failure prints the
seed and the command that reproduces it.
"""

from __future__ import annotations

import os

# One thread per parallel worker: `make test` runs as many workers as cores, and
# two workers each spinning two OpenMP threads (LightGBM, BLAS) on two cores ran
# model fits many times slower. Set before anything loads an OpenMP runtime
# (which reads these once); the models' default `n_jobs=None` follows them, and so
# do the subprocesses and notebook kernels the tests start.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
    from threadpoolctl import threadpool_limits  # and any runtime a plugin loaded

    threadpool_limits(int(os.environ["OMP_NUM_THREADS"]))

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


# --- Populations and models built once per session -------------------------------
# Building a population or fitting a model is the slow part of most tests: each
# (size, seed, dates) population is made once per session and shared, read-only.

_POPULATIONS: dict[tuple, object] = {}


@pytest.fixture(scope="session")
def cached_population():
    """``cached_population(n, random_state=0, start=..., end=...)``: do not mutate."""
    import datetime as dt

    from riskstrat.synth import make_population

    def get(
        n: int,
        *,
        random_state: int = 0,
        start: dt.date = dt.date(2019, 4, 1),
        end: dt.date = dt.date(2024, 4, 1),
    ):
        key = (n, random_state, start, end)
        if key not in _POPULATIONS:
            _POPULATIONS[key] = make_population(
                n, start=start, end=end, random_state=random_state
            )
        return _POPULATIONS[key]

    return get


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    """``mlflow_store(path) -> tracking URI``: a new, empty MLflow store at ``path``.

    MLflow makes a new SQLite store by running its schema migrations (2-3 s); the
    session migrates one and copies it (a tenth of a second). Its default
    experiment keeps its artefacts in the session's temporary folder, not in the
    working directory. Tests of a store MLflow has never seen use a plain path.
    """
    import contextlib
    import shutil
    from pathlib import Path

    import mlflow

    template = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    # MLflow places the default experiment's artefacts under ./mlruns, resolved
    # when the store is made: made here, they stay out of the working directory.
    with contextlib.chdir(template.parent):
        mlflow.MlflowClient(tracking_uri=f"sqlite:///{template}").search_experiments()

    def new(path) -> str:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    return new


@pytest.fixture(scope="session")
def registered(cached_population, tmp_path_factory, mlflow_store):
    """A small model trained, logged and registered as ``risk@champion``.

    Returns ``(population, tracking_uri, LoadedModel)``; the store is in a
    session temp folder. Built on 4 000 people with no bootstraps: it is for
    plumbing tests (scoring, MLflow, CLI), not for validity.
    """
    import datetime as dt

    from riskstrat.batch import run_training
    from riskstrat.model import (
        CohortSettings,
        ModelDesign,
        TemporalDesign,
        load_model,
    )

    pop = cached_population(4_000, random_state=5)
    uri = mlflow_store(tmp_path_factory.mktemp("registered") / "mlflow.db")
    design = ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(
            train_as_of=(dt.date(2021, 4, 1),), test_as_of=dt.date(2022, 4, 1)
        ),
        model_params={"max_trees": 60},
    )
    run_training(pop.tables, design, register="risk", tracking_uri=uri, n_bootstraps=0)
    return pop, uri, load_model("risk@champion", tracking_uri=uri)


# --- Long poles first ---------------------------------------------------------------
# `make test` hands whole files to two workers (pytest-xdist, --dist loadfile) in
# collection order. Started last, the few files that take half a minute or more leave
# one worker idle at the end; started first, the many short files fill in around them.
# Measured with `--junitxml` (time per file); a file not listed just runs in its turn.
LONG_POLES = (
    # the Spark files: one unit of work (SPARK_FILES), about 75 s
    "tests/batch/test_nightly_spark.py",
    "tests/features/test_spark_parity.py",
    "tests/features/test_cohort.py",
    "tests/model/test_pyfunc.py",
    # then the files of 20 s or more, longest first
    "tests/batch/test_nightly_kill.py",
    "tests/batch/test_training_validity.py",
    "tests/test_cli.py",
    "tests/synth/test_truth.py",
    "tests/batch/test_training_run.py",
    "tests/notebooks/test_notebooks.py",
    "tests/synth/test_population.py",
    "tests/sources/test_omop.py",
    "tests/synth/test_simulate.py",
    "tests/batch/test_promote.py",
    "tests/model/test_registry.py",
)


#: Test files that start Spark: one worker runs them all, so the suite starts one JVM
#: (about 13 s before the first job) rather than one per worker.
SPARK_FILES = (
    "tests/batch/test_nightly_spark.py",
    "tests/model/test_pyfunc.py",
    "tests/features/test_spark_parity.py",
    "tests/features/test_cohort.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile``, with the Spark files as one unit of work.

    Files are handed out in collection order (``LONG_POLES`` first), not by
    xdist's default of the most tests first, which started one-test files that
    take half a minute last.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    config.option.loadscopereorder = False
    from xdist.scheduler import LoadScopeScheduling

    class _FilesSparkTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "spark" if path in SPARK_FILES else path

    return _FilesSparkTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    root = config.rootpath

    def rank(item: pytest.Item) -> int:
        try:
            name = item.path.relative_to(root).as_posix()
        except ValueError:
            return len(LONG_POLES)
        return LONG_POLES.index(name) if name in LONG_POLES else len(LONG_POLES)

    items.sort(key=rank)  # stable: the order within a file and among the rest holds
