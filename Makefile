# cchc — two commands do everything: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cchc-installed
YEAR   ?= 2023

.PHONY: help install report ingest sample test test-long bench lint browser strace clean lab

help:
	@echo "make report  - set up .venv, ingest data/raw, render the $(YEAR) reports"
	@echo "make test    - set up .venv and run the whole test suite"
	@echo "make test-long - the property-based tests with many more examples"
	@echo "make bench   - run the benchmarks and print their tables"
	@echo "make sample  - regenerate the bundled sample data in data/raw"
	@echo "make lint    - ruff"
	@echo "make lab     - JupyterLab on the explorer (notebooks/explore.ipynb), cchc kernel"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when the dependency list changes; the project itself is editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name cchc --display-name "cchc (Python 3)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/cchc ingest --raw data/raw --out data/processed

report: install
	$(BIN)/cchc report --year $(YEAR) --raw data/raw --processed data/processed --out reports

sample: install
	$(BIN)/cchc sample --out data/raw

# Headless Chromium and Firefox ESR for the browser tests (Debian packages), installed when
# missing (as root; elsewhere the browser tests say how to get them and are skipped).
browser:
	@missing=""; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing="$$missing firefox-esr"; \
	  [ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || { \
	  echo "Installing Debian$$missing for the browser tests ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || echo "warning: could not install$$missing; browser tests will fail"; }

# strace for the fault-injection tests (ingest killed at every rename), installed when missing.
strace:
	@command -v strace >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
	  echo "Installing strace for the fault-injection tests ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null) \
	  || echo "warning: could not install strace; the kill-at-every-rename test will be skipped"; }

test: install browser strace
	$(BIN)/python -m pytest -q

# The property-based tests with many more examples (the default run keeps them to seconds).
test-long: install strace
	CCHC_HYPOTHESIS_EXAMPLES=$${CCHC_HYPOTHESIS_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_properties.py

bench: install
	$(BIN)/python -m benchmarks

# The analysts' explorer: JupyterLab on notebooks/explore.ipynb with the cchc kernel (installed by
# `install`). Widgets and plotly's figure widget come as prebuilt extensions inside the Python
# packages, so nothing is built or downloaded. LAB_ARGS for more options (e.g. --port=8890).
LAB_ARGS ?=
LAB_STAMP := $(VENV)/.cchc-lab-installed
$(LAB_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $(LAB_STAMP)

lab: install $(LAB_STAMP)
	$(BIN)/jupyter lab notebooks/explore.ipynb $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

lint: install
	$(BIN)/ruff check cchc_lib tests benchmarks

clean:
	rm -rf data/processed/*.parquet data/processed/*.csv data/processed/*.json data/processed/.generations data/processed/.ingest-cache reports/*
