# Lambdabox: `make up` runs the platform, `make test` runs every test. Both create .venv first.
PYTHON ?= $(shell python3 -c 'import sys; print(sys.executable)')
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: up test test-no-isolation lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

up: $(VENV)/.installed
	$(VENV)/bin/lambdabox up

test: $(VENV)/.installed-dev
	$(PY) -m pytest

# The same suite with execution environments as plain processes: everything but isolation itself must work
# where isolation is off or unavailable (its own checks skip, saying why).
test-no-isolation: $(VENV)/.installed-dev
	LAMBDABOX_ISOLATION=off $(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
