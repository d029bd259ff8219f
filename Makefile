# JobPulse developer commands. `make help` lists them.
PYTHON ?= python3.11
VENV ?= .venv
WAREHOUSE_VENV ?= .venv-warehouse
BIN := $(VENV)/bin
JOBPULSE := $(BIN)/jobpulse
PYTEST_ARGS ?=
CLUSTER_PYTEST_ARGS ?=
# `make setup` links the jobpulse command here when it can, so it works without activating the virtualenv
LINK_DIR ?= /usr/local/bin

.DEFAULT_GOAL := help
.PHONY: help setup up down status demo demo-down test test-cluster test-soak bench soak lint format lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# mysqlclient, the Airflow mysql provider's driver, has no Linux wheel: pip builds it against MariaDB's C client
MYSQLCLIENT_BUILD_PACKAGES := libmariadb-dev pkg-config gcc python3-dev

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	@if ! pkg-config --exists libmariadb 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(MYSQLCLIENT_BUILD_PACKAGES); \
	  else echo "run: sudo apt-get install -y $(MYSQLCLIENT_BUILD_PACKAGES)  (then make setup again)" >&2; exit 1; fi; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned packages into $(VENV) (a first install downloads about 200 and takes minutes)"
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# The warehouse dbt project's own virtualenv: dbt-mysql 1.7 pins dbt-core 1.7 (the lakehouse runs 1.11 in $(VENV))
$(WAREHOUSE_VENV)/.installed: requirements-warehouse.txt constraints-warehouse.txt
	test -x $(WAREHOUSE_VENV)/bin/python || $(PYTHON) -m venv $(WAREHOUSE_VENV)
	@echo "installing dbt-mysql's pinned packages into $(WAREHOUSE_VENV)"
	$(WAREHOUSE_VENV)/bin/python -m pip install -q -r requirements-warehouse.txt -c constraints-warehouse.txt
	touch $@

setup: $(VENV)/.installed $(WAREHOUSE_VENV)/.installed ## virtualenvs, pinned packages, JVM artifacts, MariaDB
	$(JOBPULSE) setup
	@if [ -w "$(LINK_DIR)" ] && { [ ! -e "$(LINK_DIR)/jobpulse" ] || [ -L "$(LINK_DIR)/jobpulse" ]; }; then \
	  ln -sfn "$(CURDIR)/$(JOBPULSE)" "$(LINK_DIR)/jobpulse"; \
	else echo "add $(CURDIR)/$(BIN) to PATH (or . $(VENV)/bin/activate) to use the jobpulse command"; fi

demo: setup ## the whole system: stack, collector, simulator, Airflow (127.0.0.1:8080), dbt docs (:8081)
	$(JOBPULSE) demo up

demo-down: ## stop everything `make demo` started
	@if [ -x $(JOBPULSE) ]; then $(JOBPULSE) demo down; fi

up: setup ## start the local stack (Cassandra, Kafka, MariaDB, Spark Thrift server)
	$(JOBPULSE) stack up

down: ## stop every process of the local stack
	@if [ -x $(JOBPULSE) ]; then $(JOBPULSE) stack down; fi

status: ## show each service, its port, PID and health
	$(JOBPULSE) stack status

lint: $(VENV)/.installed $(WAREHOUSE_VENV)/.installed ## ruff; sqlfluff and dbt-score on the dbt projects
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/lakehouse/models dbt_project/warehouse/models
	$(JOBPULSE) docs --manifest-only
	$(BIN)/dbt-score lint --manifest dbt_project/lakehouse/target/manifest.json
	$(BIN)/dbt-score lint --manifest dbt_project/warehouse/target/manifest.json

format: $(VENV)/.installed ## apply ruff's and sqlfluff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project/lakehouse/models dbt_project/warehouse/models

test: setup lint ## everything CI runs: the suite on the single stack, then the cluster topology's (stacks stopped after)
	@status=0; \
	$(JOBPULSE) stack up && $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	$(JOBPULSE) stack down; \
	$(MAKE) --no-print-directory test-cluster || status=$$?; \
	exit $$status

# Spark's RPC authenticated, as a deployment off the loopback must be: a secret of this run's own
test-cluster: setup ## the cluster topology's tests on its own stack (3 Cassandra, 3 Kafka, Spark standalone)
	@status=0; export JOBPULSE_TOPOLOGY=cluster; \
	export JOBPULSE_SPARK_RPC_PASSWORD=$${JOBPULSE_SPARK_RPC_PASSWORD:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))')}; \
	$(JOBPULSE) stack up && $(BIN)/pytest -m cluster $(CLUSTER_PYTEST_ARGS) || status=$$?; \
	$(JOBPULSE) stack down; \
	exit $$status

bench: setup ## benchmarks against the local stack; JSON results in bench/results/
	$(JOBPULSE) stack up
	$(BIN)/python -m bench.collector --write
	$(BIN)/python -m bench.ingest --write
	$(BIN)/python -m bench.pipeline --write
	$(BIN)/python -m bench.pipeline --busy-day --write
	$(BIN)/python -m bench.freshness --write
	$(BIN)/python -m bench.freshness --busy-day-events 5000000 --name freshness_busy_day --write
	$(BIN)/python -m bench.topology --write

test-soak: setup ## the short chaos soak alone (every kind of kill once at 100 events/s, about 9 minutes; in make test)
	$(JOBPULSE) stack up && $(BIN)/pytest -m soak

soak: setup ## chaos soak: 30 min at 1,000 events/s, every service SIGKILLed in turn; bench/results/soak.json
	$(JOBPULSE) stack up
	$(BIN)/python -m bench.soak --write

lock: ## re-resolve requirements*.txt and rewrite constraints*.txt (the transitive locks)
	for name in "" -warehouse; do \
	  rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && \
	  .lock-venv/bin/python -m pip install -q -r requirements$$name.txt && \
	  { echo "# Transitive lock written by \`make lock\` from requirements$$name.txt; do not edit by hand."; \
	    .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > constraints$$name.txt \
	  || exit 1; \
	done
	rm -rf .lock-venv

clean: down ## remove both topologies' stack data and the virtualenvs (keeps the JVM artifact cache)
	@if [ -x $(JOBPULSE) ]; then JOBPULSE_TOPOLOGY=cluster $(JOBPULSE) stack down; fi
	rm -rf .stack .stack-cluster $(VENV) $(WAREHOUSE_VENV)
