# zstack-mock: `make run` serves on http://127.0.0.1:8080, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps over one .venv: serving needs only the runtime dependencies; test and lint add the dev extras.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium

.PHONY: run run-postgres test postgres-server lint openapi schema bench screenshot clean help

help:
	@echo "make run      set up .venv (runtime dependencies only) and serve http://127.0.0.1:8080 with the default fixtures"
	@echo "make run-postgres  a throwaway PostgreSQL cluster and two replicas over it on :8080 and :8081 (Ctrl-C stops and removes them);"
	@echo "                   SERVE_FLAGS=\"--sandbox\" gives both replicas serve's flags"
	@echo "make test     set up .venv with the dev extras, lint, and run the whole suite"
	@echo "make lint     ruff and mypy"
	@echo "make openapi  regenerate openapi/openapi.json from the app"
	@echo "make schema   regenerate app/store/schema_sqlite.sql, schema_postgres.sql and records.py from the SQLModel tables"
	@echo "make screenshot  redraw docs/console.png, the console after a successful call (real browser)"
	@echo "make bench    benchmarks against a bare FastAPI route (installs wrk if missing), reset/restore times, sandbox load, embedded and serve start-up, WireMock and Prism side by side (npm, Java)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

# The benchmarks' own extras (the rivals stage's chart) stay out of make test's install.
$(BENCH_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(RUN_STAMP)
	$(BIN)/zstack-mock serve

# docs/scale-out.md: a throwaway cluster (devtools/pgcluster.py) and two replicas over one database.
run-postgres: $(RUN_STAMP) | postgres-server
	$(BIN)/python -m devtools.run_postgres -- $(SERVE_FLAGS)

# Installs Chromium when it is missing and we are root (CI on a bare Debian machine); otherwise says
# how, and the browser tests fail with the same advice rather than being skipped.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
		echo "make: $(CHROMIUM) is missing, so tests/browser will fail: install it as root with" \
		     "'apt-get update && apt-get install -y --no-install-recommends chromium'" >&2; \
	fi

# The store and scale-out tests, run-postgres and bench start throwaway PostgreSQL clusters (devtools/pgcluster.py) with Debian's server
# programs: installed here when missing and we are root; otherwise those tests fail saying how.
postgres-server:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
	else \
		echo "make: PostgreSQL's server is missing, so the PostgreSQL tests and run-postgres will fail: install it as root with" \
		     "'apt-get update && apt-get install -y --no-install-recommends postgresql'" >&2; \
	fi

test: $(DEV_STAMP) | $(CHROMIUM) postgres-server
	$(BIN)/ruff check app tests devtools
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2  # two workers: the suite waits on sockets and subprocesses more than on the CPU

lint: $(DEV_STAMP)
	$(BIN)/ruff check app tests devtools benchmarks
	$(BIN)/mypy

openapi: $(DEV_STAMP)
	$(BIN)/zstack-mock openapi --output openapi/openapi.json

schema: $(DEV_STAMP)
	$(BIN)/python -m app.store.ddl sqlite > app/store/schema_sqlite.sql
	$(BIN)/python -m app.store.ddl postgres > app/store/schema_postgres.sql
	$(BIN)/python -m app.store.recordgen > app/store/records.py

screenshot: $(DEV_STAMP) | $(CHROMIUM)
	ZSTACK_MOCK_SCREENSHOT=docs/console.png $(BIN)/python -m pytest -q tests/browser/test_console.py -k screenshot

# BENCH_STAGES picks stages of run.py; the scripts after it run only when it is unset (or `all`).
bench: $(BENCH_STAMP) | postgres-server
	$(BIN)/python benchmarks/run.py
	@if [ -n "$$BENCH_STAGES" ] && [ "$$BENCH_STAGES" != all ]; then \
		echo "make bench: BENCH_STAGES=$$BENCH_STAGES, so sandbox.py, hostile.py and embedded.py are left out"; \
	else \
		set -e; \
		$(BIN)/python benchmarks/sandbox.py; \
		$(BIN)/python benchmarks/hostile.py; \
		$(BIN)/python benchmarks/embedded.py; \
	fi

clean:
	rm -rf $(VENV) zstack-mock.db zstack-mock.db-wal zstack-mock.db-shm zstack-mock.db.sandbox
