# cchc — two commands do everything: `make report` and `make test`. `make help` lists the rest
# (every target with a "## what it does" comment).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cchc-installed
YEAR   ?= 2023

.PHONY: help install report ingest sample test test-fast test-long bench lint browser strace clean lab

help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when the dependency list changes; the project itself is editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name cchc --display-name "cchc (Python 3)" >/dev/null
	touch $(STAMP)

install: $(STAMP) ## set up .venv with cchc (editable) and the cchc Jupyter kernel

ingest: install ## validate and normalise data/raw into data/processed
	$(BIN)/cchc ingest --raw data/raw --out data/processed

report: install ## ingest data/raw and render the reports of YEAR (default 2023) into reports/
	$(BIN)/cchc report --year $(YEAR) --raw data/raw --processed data/processed --out reports

sample: install ## regenerate the bundled sample data in data/raw
	$(BIN)/cchc sample --out data/raw

# Headless Chromium and Firefox ESR for the browser tests (Debian packages), installed when
# missing (as root; elsewhere the browser tests say how to get them and are skipped).
browser: ## install headless Chromium and Firefox ESR for the browser tests (as root)
	@missing=""; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing="$$missing firefox-esr"; \
	  [ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || { \
	  echo "Installing Debian$$missing for the browser tests ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || echo "warning: could not install$$missing; browser tests will fail"; }

# strace for the fault-injection tests (ingest killed at every rename), installed when missing.
strace: ## install strace for the fault-injection tests (as root)
	@command -v strace >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
	  echo "Installing strace for the fault-injection tests ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null) \
	  || echo "warning: could not install strace; the kill-at-every-rename test will be skipped"; }

test: install browser strace lint ## lint, then the whole test suite (what CI runs)
	$(BIN)/python -m pytest -q

# Unit tests only: no kernel, no browser, no ingest of the whole sample (seconds, not minutes).
test-fast: install ## the unit tests only (pytest -m unit)
	$(BIN)/python -m pytest -q -m unit

# The property-based tests with many more examples (the default run keeps them to seconds).
test-long: install strace ## the property-based tests with many more examples
	CCHC_HYPOTHESIS_EXAMPLES=$${CCHC_HYPOTHESIS_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_properties.py

bench: install ## run the benchmarks and print their tables
	$(BIN)/python -m benchmarks

# The analysts' explorer: JupyterLab on notebooks/explore.ipynb with the cchc kernel (installed by
# `install`). Widgets and plotly's figure widget come as prebuilt extensions inside the Python
# packages, so nothing is built or downloaded. LAB_ARGS for more options (e.g. --port=8890).
LAB_ARGS ?=
LAB_STAMP := $(VENV)/.cchc-lab-installed
$(LAB_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $(LAB_STAMP)

lab: install $(LAB_STAMP) ## JupyterLab on the explorer (notebooks/explore.ipynb), cchc kernel
	$(BIN)/jupyter lab notebooks/explore.ipynb $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# ruff, then mypy (settings in pyproject.toml: strict on the publishing redesign's modules).
lint: install ## ruff + mypy, clean
	$(BIN)/ruff check cchc_lib tests benchmarks
	$(BIN)/mypy

clean: ## remove processed data and reports
	rm -rf data/processed/*.parquet data/processed/*.csv data/processed/*.json data/processed/.generations data/processed/.ingest-cache reports/*
