# post-loan-review: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
ACCOUNTS ?= 100000
SEED ?= 7

# Airflow on the embedded default: SQLite metadata under .local/, our dags/ and plugins/.
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export GX_ANALYTICS_ENABLED := false

# The production shape natively (make airflow-prod): PostgreSQL metadata and warehouse, Redis broker.
PG_SERVER ?= postgresql+psycopg://postgres@127.0.0.1:5432
PROD_AIRFLOW_HOME ?= $(CURDIR)/.local/airflow-prod
PROD_METADATA_URL ?= $(PG_SERVER)/plr_airflow
PROD_WAREHOUSE_URL ?= $(PG_SERVER)/plr_warehouse
PROD_BROKER_URL ?= redis://127.0.0.1:6379/0
PROD_PORT ?= 8080
# off: no scheduled runs (the demo data ends on 2026-11-27, the schedule would review today); on: nightly at 02:00
SCHEDULE ?= off

.PHONY: help venv run test airflow airflow-prod lock bench bench-production bench-report clean

help:
	@echo "make run      set up, generate $(ACCOUNTS) accounts, run the nightly DAG through Airflow, print the report path"
	@echo "make test     set up and run the whole test suite"
	@echo "make airflow  start Airflow locally (standalone) on http://127.0.0.1:8080"
	@echo "make airflow-prod  the production stack natively: CeleryExecutor, PostgreSQL, Redis on http://127.0.0.1:$(PROD_PORT)"
	@echo "make bench    time plr review (100,000 and 1,000,000 accounts) and the reassessment alone (1,000,000)"
	@echo "make bench-production  the whole review on PostgreSQL against the COPY floor (SIZES=\"100000 1000000 10000000\")"
	@echo "make bench-report  build the report of 1,000,000 accounts on SQLite and on PostgreSQL"

# The virtual environment, rebuilt when the lock or the project file changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("post-loan-review needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@touch $@

venv: $(VENV)/.installed

run: venv
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/plr init-db
	$(BIN)/plr generate --accounts $(ACCOUNTS) --seed $(SEED)
	@echo "Preparing Airflow's metadata database (SQLite) in $(AIRFLOW_HOME) ..."
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || { tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1; }
	@review_date=$$($(BIN)/plr latest-date) && \
	echo "Running the DAG post_loan_review through Airflow for $$review_date ..." && \
	$(BIN)/airflow dags test post_loan_review "$$review_date" --conf "{\"review_date\": \"$$review_date\"}" \
		> $(AIRFLOW_HOME)/dags-test.log 2>&1 || { grep -a -E "Error|Exception" $(AIRFLOW_HOME)/dags-test.log | tail -5; \
		echo "The DAG run failed; its log: $(AIRFLOW_HOME)/dags-test.log"; exit 1; } ; \
	$(BIN)/plr summary --date "$$review_date"

test: venv
	bash .ci/ensure-services
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadfile

airflow: venv
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/plr init-db
	PATH="$(BIN):$$PATH" AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \
		$(BIN)/airflow standalone

airflow-prod: venv
	@bash .ci/ensure-services
	$(BIN)/python scripts/native_stack.py createdb $(PROD_METADATA_URL) $(PROD_WAREHOUSE_URL)
	@export PLR_DATABASE_URL=$(PROD_WAREHOUSE_URL); \
	if latest=$$($(BIN)/plr latest-date 2>/dev/null); then \
		echo "warehouse $(PROD_WAREHOUSE_URL) has data up to $$latest: kept"; \
	else \
		$(BIN)/plr init-db && $(BIN)/plr generate --accounts $(ACCOUNTS) --seed $(SEED); \
	fi
	$(BIN)/python scripts/native_stack.py up --home $(PROD_AIRFLOW_HOME) --port $(PROD_PORT) \
		--metadata-url $(PROD_METADATA_URL) --warehouse-url $(PROD_WAREHOUSE_URL) --broker-url $(PROD_BROKER_URL) \
		$(if $(filter off,$(SCHEDULE)),--no-schedule,)

bench: venv
	$(BIN)/python bench/bench_reassess.py
	$(BIN)/python bench/bench_review.py

# On the local PostgreSQL server (PLR_TEST_POSTGRES_URL); 10,000,000 accounts take 15 to 30 minutes.
# BENCH_ARGS="--earlier-nights 1": a warehouse that reviewed the night before, not a fresh one;
# "--earlier-nights 1 --score-history-days 90": one with a score snapshot for every night of 90 days.
SIZES ?= 100000 1000000
BENCH_ARGS ?=
bench-production: venv
	bash .ci/ensure-services
	$(BIN)/python bench/bench_production.py $(SIZES) $(BENCH_ARGS)

# The report of one night of 1,000,000 accounts on SQLite (the embedded default) and on PostgreSQL.
bench-report: venv
	bash .ci/ensure-services
	$(BIN)/python bench/bench_report.py 1000000
	$(BIN)/python bench/bench_report.py 1000000 --postgres

# Re-resolve the lock from pyproject.toml in a throwaway environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[test]"
	{ echo "# Exact versions of every package post-loan-review is tested with (Python 3.11+)."; \
	  echo "# Regenerate: make lock (a fresh venv from pyproject.toml, then pip freeze)."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .local
