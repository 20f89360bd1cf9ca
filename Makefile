# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files make re-runs fast while still reinstalling when pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/mlcycle demo mlcycle-demo

# The conventions, checked: formatting and lint (ruff), types (mypy, settings in pyproject.toml)
# and the layers (import-linter). `make test` runs it first.
lint: install-test
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

# Two workers, a test file per worker (its fixtures and order hold); the zoo, the longest file, starts first.
test: lint /usr/bin/chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) mlcycle-demo .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
