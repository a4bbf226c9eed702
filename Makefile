# The two commands of the README: `make run` (set up, demo data, run the main job on embedded DuckDB) and
# `make test` (the whole suite, DuckDB + PostgreSQL + Spark). Settings: see README "Settings".
SHELL := /bin/bash
.DEFAULT_GOAL := help

export CLM_LANDING_DIR ?= data/landing
export CLM_WAREHOUSE_DIR ?= warehouse
export CLM_TARGET ?= duckdb
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
SCALE ?= 1
DEMO_SCALE ?= 0.1
# a few bad rows in the demo, so the run's summary shows rejected rows per reason code
DEMO_DIRTY ?= 0.002
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)

.PHONY: help install manifest demo-data run test test-slow test-fast lint validate bench ui postgres clean

help:
	@echo "make run        set up, generate demo data if the landing folder is empty, run the main job on DuckDB"
	@echo "make test       the whole test suite (DuckDB, PostgreSQL, Spark), lint and definitions check"
	@echo "make bench SCALE=n   benchmark the full pipeline at scale n, appending to docs/benchmarks.md"
	@echo "make bench SCALE=n BEFORE_AFTER=lifecycle   the same without, then with, the lifecycle models"
	@echo "make ui         the Dagster UI on http://127.0.0.1:3000"

# The environment comes from the committed lock file (uv.lock); uv itself is installed with pip if missing.
$(VENV)/.synced: uv.lock pyproject.toml
	@if [ -z "$(UV)" ]; then python3 -m pip install --quiet --disable-pip-version-check uv; fi
	uv sync --frozen --extra dev --extra spark --python 3.11
	@touch $@

install: $(VENV)/.synced

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $@

# The dbt manifest Dagster loads, built by an explicit command (never at import time).
manifest: install
	$(PY) -m orchestration.manifest

demo-data: install
	@if [ -z "$$(find $(CLM_LANDING_DIR) -type f \( -name '*.csv' -o -name '*.parquet' \) 2>/dev/null | head -1)" ]; then \
		echo "landing folder $(CLM_LANDING_DIR) is empty: generating demo data at scale $(DEMO_SCALE)"; \
		$(PY) -m orchestration.generate --scale $(DEMO_SCALE) --dirty $(DEMO_DIRTY) --out $(CLM_LANDING_DIR); \
	else echo "using the files already in $(CLM_LANDING_DIR)"; fi

run: install manifest demo-data $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m orchestration.run

postgres:
	bash scripts/postgres-up.sh

# SQL style: sqlfluff with the dbt templater (.sqlfluff), compiled against a scratch DuckDB file and target
# folder so it never touches the warehouse or the manifest Dagster loads.
lint: install
	$(VENV)/bin/ruff check orchestration tests
	@mkdir -p .lint
	CLM_WAREHOUSE_DIR=$(CURDIR)/.lint DBT_TARGET_PATH=$(CURDIR)/.lint/target DBT_LOG_PATH=$(CURDIR)/.lint/logs \
		$(VENV)/bin/sqlfluff lint models snapshots tests/dbt

validate: install manifest $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster definitions validate -m orchestration.definitions

test: install manifest $(DAGSTER_HOME)/dagster.yaml
	@if ! $(PY) -c "from tests.support import postgres_available as a; raise SystemExit(0 if a() else 1)"; then \
		if [ "$$(id -u)" = 0 ]; then bash scripts/postgres-up.sh; \
		else echo "PostgreSQL is not reachable and this is not root: start it (make postgres) for the PostgreSQL tests"; fi; \
	fi
	$(MAKE) --no-print-directory lint validate
	SPARK_LOCAL_IP=127.0.0.1 $(PY) -m pytest -q -m "not slow" -n 2 --dist loadfile --durations=25 $(PYTEST_ARGS)

# Per-area Spark re-runs (each repeats part of what tests/test_spark.py proves for the whole project).
test-slow: install manifest
	SPARK_LOCAL_IP=127.0.0.1 CLM_TEST_SPARK=1 $(PY) -m pytest -q -m slow $(PYTEST_ARGS)

test-fast: install manifest
	$(PY) -m pytest -q -m "not slow and not spark" $(PYTEST_ARGS)

bench: install manifest $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m orchestration.bench --scale $(SCALE) $(if $(BEFORE_AFTER),--before-after $(BEFORE_AFTER))

ui: install manifest $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster-webserver -h 127.0.0.1 -p 3000 -m orchestration.definitions

clean:
	rm -rf target logs .dagster_home .lint
