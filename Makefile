# Two commands on a fresh machine (Python 3.11 + make):
#   make demo   set up, create a project from the starter under build/, run it, show the results
#   make test   set up, lint, run the whole test suite (unit + end-to-end)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# re-install when the project's metadata changes
STAMP := $(VENV)/.installed
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/churn-demo
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: demo test lint format install clean benchmark benchmark-image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cd $(DEMO_DIR) && $(BIN)/kedro new --starter=mlops --name "Churn Demo"
	cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro run
	@echo
	@echo "==================== kedro-mlops demo ===================="
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" PYTHONWARNINGS=ignore $(BIN)/kedro mlops status 2>/dev/null
	@echo "Predictions:  $(DEMO_PROJECT)/data/07_model_output/predictions.csv"
	@head -n 4 $(DEMO_PROJECT)/data/07_model_output/predictions.csv | sed 's/^/  /'
	@echo "Drift report: $$(ls -d $(DEMO_PROJECT)/data/08_reporting/drift/production_batch/*/report.html | tail -n 1)"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" PYTHONWARNINGS=ignore $(BIN)/kedro mlops models 2>/dev/null | sed 's/^/  /'
	@echo "Container images (build context; add --build where docker, podman or buildah is installed):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" PYTHONWARNINGS=ignore $(BIN)/kedro mlops package 2>/dev/null | sed 's/^/  /'
	@echo "Browse runs:  cd $(DEMO_PROJECT) && $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest -p no:cacheprovider --timeout=1200 tests

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/drift.py

benchmark-image: $(STAMP)
	source .ci/podman.sh && $(BIN)/python benchmarks/image.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
