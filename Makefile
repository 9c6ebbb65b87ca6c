# zstack-mock: `make run` serves on http://127.0.0.1:8080, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint openapi schema bench clean help

help:
	@echo "make run      set up .venv and serve http://127.0.0.1:8080 with the default fixtures"
	@echo "make test     set up .venv with the dev extras, lint, and run the whole suite"
	@echo "make lint     ruff and mypy"
	@echo "make openapi  regenerate openapi/openapi.json from the app"
	@echo "make schema   regenerate app/store/schema_sqlite.sql from the SQLModel tables"
	@echo "make bench    benchmarks against a bare FastAPI route (installs wrk if missing), reset/restore times, sandbox load"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/zstack-mock serve

test: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests benchmarks
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/zstack-mock openapi --output openapi/openapi.json

schema: $(STAMP)
	$(BIN)/python -m app.store.ddl > app/store/schema_sqlite.sql

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/state.py
	$(BIN)/python benchmarks/sandbox.py

clean:
	rm -rf $(VENV) zstack-mock.db zstack-mock.db-wal zstack-mock.db-shm
