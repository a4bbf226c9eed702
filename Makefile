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

.PHONY: help install manifest demo-data run test test-slow test-fast lint validate bench ui postgres spark run-spark spark-down clean report-screenshot metrics docs

help:
	@echo "make run        set up, generate demo data if the landing folder is empty, run the main job on DuckDB"
	@echo "make run FULL_REFRESH=1   the same, rebuilding the incremental models from all raw rows"
	@echo "make test       the whole test suite (DuckDB, PostgreSQL, Spark), lint and definitions check"
	@echo "make bench SCALE=n   benchmark the full pipeline at scale n, appending to docs/benchmarks.md"
	@echo "make bench SCALE=n BEFORE_AFTER=lifecycle   the same without, then with, the lifecycle models"
	@echo "make ui         the Dagster UI on http://127.0.0.1:3000 with its daemon (queued runs, schedules, sensor)"
	@echo "make metrics METRICS=churn_rate GROUP_BY=metric_time__month   ask the semantic layer (MetricFlow)"
	@echo "make docs       the dbt docs site on http://127.0.0.1:8080"

# The environment comes from the committed lock file (uv.lock); uv itself is installed with pip if missing.
# Its bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, Python never writes it, and every
# process (each dbt invocation, Dagster, the test workers) would compile the packages it imports again
# (docs/DECISIONS.md). The stamp's name says so: an environment synced before without bytecode is synced again.
SYNCED := $(VENV)/.synced-with-bytecode
$(SYNCED): uv.lock pyproject.toml
	@echo "setting up the Python environment in $(VENV) from uv.lock"
	@if [ -z "$(UV)" ]; then python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore uv 2>&1 \
		| grep -v "is ignored: it is neither a file nor a directory" || true; fi
	@uv sync --quiet --frozen --compile-bytecode --extra dev --extra spark --python 3.11
	@touch $@

install: $(SYNCED)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $@

# The dbt manifest Dagster loads, built by an explicit command (never at import time).
manifest: install
	@$(PY) -m orchestration.manifest

demo-data: install
	@if [ -z "$$(find $(CLM_LANDING_DIR) -type f \( -name '*.csv' -o -name '*.parquet' \) 2>/dev/null | head -1)" ]; then \
		echo "landing folder $(CLM_LANDING_DIR) is empty: generating demo data at scale $(DEMO_SCALE)"; \
		$(PY) -m orchestration.generate --scale $(DEMO_SCALE) --dirty $(DEMO_DIRTY) --out $(CLM_LANDING_DIR); \
	else echo "using the files already in $(CLM_LANDING_DIR)"; fi

# (no `manifest` prerequisite: orchestration.run parses the project itself before it loads the definitions)
run: install demo-data $(DAGSTER_HOME)/dagster.yaml
	@$(PY) -m orchestration.run $(if $(FULL_REFRESH),--full-refresh)

postgres:
	bash scripts/postgres-up.sh

# A standalone Spark cluster on 127.0.0.1 (master + one worker from the pyspark wheel, and a Hive metastore
# service); spark-down stops it. run-spark runs the whole job on it (docs/engines.md).
spark: install
	bash scripts/spark-up.sh

run-spark: spark
	@CLM_TARGET=spark CLM_SPARK_MASTER=spark://127.0.0.1:7077 CLM_SPARK_METASTORE_URI=thrift://127.0.0.1:9083 \
		$(MAKE) --no-print-directory run

spark-down:
	bash scripts/spark-down.sh

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
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then echo "installing headless Chromium (Debian package) for the report's browser test"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
			|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null); \
		else echo "Chromium is missing and this is not root: apt-get install chromium for the browser test"; fi; \
	fi
	$(MAKE) --no-print-directory lint validate
	SPARK_LOCAL_IP=127.0.0.1 $(PY) -m pytest -q -m "not slow" -n 2 --dist loadfile --no-loadscope-reorder --durations=25 $(PYTEST_ARGS)

# Per-area Spark re-runs (each repeats part of what tests/test_spark.py proves for the whole project).
test-slow: install manifest
	SPARK_LOCAL_IP=127.0.0.1 CLM_TEST_SPARK=1 $(PY) -m pytest -q -m slow $(PYTEST_ARGS)

test-fast: install manifest
	$(PY) -m pytest -q -m "not slow and not spark" $(PYTEST_ARGS)

# MODE=steps|job|both (default both), BASELINE=<commit> (also measure that commit's code, same data, one run)
bench: install manifest $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m orchestration.bench --scale $(SCALE) $(if $(BEFORE_AFTER),--before-after $(BEFORE_AFTER)) \
		$(if $(MODE),--mode $(MODE)) $(if $(BASELINE),--baseline-commit $(BASELINE))

# Ask the semantic layer (MetricFlow) on the warehouse of CLM_TARGET, e.g.
#   make metrics METRICS=churn_rate GROUP_BY=metric_time__month,customer__acquisition_channel
METRICS ?= churn_rate,quick_ratio,active_customers
GROUP_BY ?= metric_time__month
metrics: install manifest
	@DBT_PROFILES_DIR=$(CURDIR) $(VENV)/bin/mf query --metrics $(METRICS) \
		$(if $(GROUP_BY),--group-by $(GROUP_BY) --order $(firstword $(subst $(comma), ,$(GROUP_BY))))

comma := ,

# the dbt docs site (overview, lineage, every column) on http://127.0.0.1:$(DOCS_PORT)
DOCS_PORT ?= 8080
docs: install manifest
	@$(VENV)/bin/dbt docs generate --quiet
	$(VENV)/bin/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# the first screen of the latest lifecycle report (after make run) -> docs/lifecycle_report.png
report-screenshot: install
	$(PY) -m orchestration.lifecycle_report.browser $(CLM_WAREHOUSE_DIR)/published/lifecycle_report.html docs/lifecycle_report.png

ui: install manifest $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p 3000 -m orchestration.definitions

clean:
	rm -rf target logs .dagster_home .lint
