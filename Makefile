# Heron: `make demo` and `make test` do all the set-up on a fresh machine (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-store
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck bench clean install screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py --store $(DEMO_DIR)

screenshots: $(STAMP)
	bash scripts/ensure-chromium.sh
	$(PY) scripts/screenshots.py --out docs/img

test: $(STAMP)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check heron tests benchmarks scripts docs/examples
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check heron tests benchmarks scripts docs/examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	bash benchmarks/run.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
