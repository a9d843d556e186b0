# LightTrace: `make run` serves it, `make test` runs the whole suite, `make bench` measures it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev
	./scripts/install-test-deps.sh

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap
	exec $(BIN)/python manage.py serve

# CI's whole check (.ci/run): static checks, the installed wheel, the database suite on the embedded
# default (SQLite, no Redis), then the whole suite on PostgreSQL + Redis.
test: lint
	./scripts/test-all.sh

# Style, types (strict on the pure packages) and the import direction (pyproject.toml's contracts).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
