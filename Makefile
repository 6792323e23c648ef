# Two commands on a fresh machine (Python 3.11 + make):
#   make demo   set up, create a project from the starter under build/, run it, show the results
#   make test   set up, lint, run the whole test suite (unit + end-to-end, the docs built strictly)
#   make docs   the documentation site, into build/site/
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# re-install when the project's metadata changes
STAMP := $(VENV)/.installed
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/churn-demo
DEMO_PORT := 18765
# a weaker retrain for the live-evaluation part of the demo: one split, one boosting round
DEMO_STUMP := model.hyperparameters.max_iter=1,model.hyperparameters.max_leaf_nodes=2
DEMO_ROW := {"customer_id": 1, "signup_date": "2025-08-18", "tenure_months": 28, "monthly_charges": 100.12, "total_charges": 2789.17, "num_support_calls": 4, "age": 53, "contract_type": "month-to-month", "internet_service": "fiber", "payment_method": "electronic-check", "region": "north", "paperless_billing": "yes"}
# pytest workers (pytest-xdist): the suite is mostly waiting on subprocesses, two fit 2 cores
TEST_WORKERS ?= 2
export KEDRO_DISABLE_TELEMETRY := 1
# mkdocs-material's banner about its successor, printed on every build
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint format install clean benchmark benchmark-image docs docs-images

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,docs,spark]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cd $(DEMO_DIR) && $(BIN)/kedro new --starter=mlops --name "Churn Demo"
	cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro run
	@echo
	@echo "==================== kedro-mlops demo ===================="
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops status
	@echo "Predictions:  $(DEMO_PROJECT)/data/07_model_output/predictions.csv"
	@head -n 4 $(DEMO_PROJECT)/data/07_model_output/predictions.csv | sed 's/^/  /'
	@echo "Drift report: $$(ls -d $(DEMO_PROJECT)/data/08_reporting/drift/production_batch/*/report.html | tail -n 1)"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops models 2>&1 | sed 's/^/  /'
	@echo "Container images (build context; add --build where docker, podman or buildah is installed):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops package 2>&1 | sed 's/^/  /'
	@echo "Online serving (kedro mlops serve, the champion behind a typed REST API):"
	@cd $(DEMO_PROJECT) && { PATH="$(BIN):$$PATH" $(BIN)/kedro mlops serve --port $(DEMO_PORT) >serve.log 2>&1 & echo $$! >serve.pid; }
	@for i in $$(seq 1 150); do curl -sf localhost:$(DEMO_PORT)/ready >/dev/null && break; sleep 0.2; done
	@echo '  POST /predict $(DEMO_ROW)' && echo -n "  -> " && curl -s localhost:$(DEMO_PORT)/predict \
		-H 'Content-Type: application/json' -d '$(DEMO_ROW)' && echo
	@echo -n "  POST /predict with a bad field -> " && curl -s localhost:$(DEMO_PORT)/predict \
		-H 'Content-Type: application/json' -d '{"customer_id": 1}' | head -c 160 && echo " ..."
	@kill $$(cat $(DEMO_PROJECT)/serve.pid) && rm -f $(DEMO_PROJECT)/serve.pid
	@echo "  (docs: http://127.0.0.1:8080/docs while \`kedro mlops serve\` runs; served rows: data/07_model_output/served/)"
	@echo "Live evaluation (a weaker retrain registered as challenger, tried in the champion's shadow):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro run --pipeline data_science \
		--params "$(DEMO_STUMP)" >rollout-train.log 2>&1 && PATH="$(BIN):$$PATH" \
		$(BIN)/kedro mlops models 2>&1 | sed 's/^/  /'
	@cd $(DEMO_PROJECT) && { PATH="$(BIN):$$PATH" $(BIN)/kedro mlops serve --rollout shadow --port $(DEMO_PORT) >serve.log 2>&1 & echo $$! >serve.pid; }
	@for i in $$(seq 1 150); do curl -sf localhost:$(DEMO_PORT)/ready >/dev/null && break; sleep 0.2; done
	@cd $(DEMO_PROJECT) && $(BIN)/python -c "import pandas as p; print(p.read_csv('data/01_raw/production_batch.csv').to_json(orient='records'))" >batch.json
	@echo -n "  POST /predict, 3,000 rows, answered by model_version " && curl -s localhost:$(DEMO_PORT)/predict \
		-H 'Content-Type: application/json' --data-binary @$(DEMO_PROJECT)/batch.json \
		| $(BIN)/python -c "import json, sys; print(', '.join(sorted({r['model_version'] for r in json.load(sys.stdin)['predictions']})), '(the champion; the challenger scored them in its shadow)')"
	@pid=$$(cat $(DEMO_PROJECT)/serve.pid) && kill $$pid && while kill -0 $$pid 2>/dev/null; do sleep 0.2; done
	@rm -f $(DEMO_PROJECT)/serve.pid $(DEMO_PROJECT)/batch.json
	@echo "  kedro mlops rollout analyze (no labels yet: data/01_raw/ground_truth/ is empty):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops rollout analyze 2>&1 | sed 's/^/  /' || true
	@echo "Monitoring (model quality once labels arrive: POST /feedback, or CSV files in data/01_raw/ground_truth/):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops monitor --check batch_quality 2>&1 | sed 's/^/  /'
	@echo "  kedro mlops monitor --history (every check run, drift and quality) and --dashboard:"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops monitor --history 2>&1 | sed 's/^/    /'
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops monitor --dashboard 2>&1 | sed 's/^/    /'
	@echo "Orchestration (kedro mlops export --target airflow; --target kubeflow for KFP / Vertex AI):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops export --target airflow \
		| grep -E '^(Wrote|- `)' | sed 's/^/  /'
	@echo "Kubernetes (kedro mlops deploy; make deploy ENV=staging applies, checks and rolls back):"
	@cd $(DEMO_PROJECT) && PATH="$(BIN):$$PATH" $(BIN)/kedro mlops deploy 2>&1 | sed 's/^/  /'
	@echo "CI > CT > CD (generated with the project; each job runs one of its make targets):"
	@cd $(DEMO_PROJECT) && ls -1 .github/workflows/*.yml .gitlab-ci.yml | sed 's/^/  /'
	@cd $(DEMO_PROJECT) && awk 'NR >= 5 && /^#$$/ {exit} NR >= 5' Makefile | sed 's/^#/ /'
	@echo "Browse runs:  cd $(DEMO_PROJECT) && $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest -p no:cacheprovider --timeout=1200 --durations=25 \
		--numprocesses=$(TEST_WORKERS) --dist=loadscope --no-loadscope-reorder tests

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site
	@echo "Open build/site/index.html"

# the screenshots of the docs (docs/images/*.png), from the demo project, with headless Chromium
docs-images: $(STAMP)
	test -d $(DEMO_PROJECT)/data/08_reporting/drift || $(MAKE) demo
	command -v chromium >/dev/null || apt-get install -y -q chromium
	PATH="$(BIN):$$PATH" $(BIN)/python docs/images/src/make_images.py $(DEMO_PROJECT)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/drift.py
	$(BIN)/python benchmarks/performance.py
	$(BIN)/python benchmarks/history.py
	$(BIN)/python benchmarks/serving.py

benchmark-image: $(STAMP)
	source .ci/podman.sh && $(BIN)/python benchmarks/image.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
