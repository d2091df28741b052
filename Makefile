# riskstrat — the two commands a newcomer needs are `make demo` and `make test`.
# Everything is installed into .venv from the lock file (uv.lock) by uv, which is
# itself bootstrapped from PyPI into .uv/ with the machine's python3.

PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := .uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= --extra dev --extra spark
DEMO_DIR ?= data/demo
DEMO_PATIENTS ?= 20000
# The suite runs on every core (pytest-xdist), one test file per worker so that a
# module's fixtures are built once; TEST_WORKERS=0 runs it in one process. Python
# may write bytecode for it (PYTHONDONTWRITEBYTECODE, if the shell sets it, made
# every worker, subprocess and notebook kernel compile mlflow, pandas and the rest
# from source again: seconds each).
TEST_WORKERS ?= auto

.PHONY: install demo test lint bench clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen $(EXTRAS) --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/riskstrat demo --out $(DEMO_DIR) --patients $(DEMO_PATIENTS) --seed 0

test: install
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	$(VENV)/bin/ruff format --check src tests benchmarks notebooks
	$(VENV)/bin/mypy

bench: install
	$(PY) benchmarks/synth.py
	$(PY) benchmarks/features.py

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache
