# Two commands a new user needs: `make run` and `make test` (Python 3.11 and make, nothing else).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each install leaves a stamp in the venv and is redone only when pyproject.toml changes (the
# install is editable: source edits need no reinstall), so `make run` starts at once.
STAMP := $(VENV)/.installed

$(STAMP)-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	touch $@ $(STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(STAMP)

install-test: $(STAMP)-test

run: install
	$(BIN)/ats-gateway $(ARGS)

# pytest exits 5 when it collects nothing; treat that as a failure of the suite only if tests exist.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: install-test $(STAMP)-dev
	$(BIN)/python -m ruff check gateway ats_tools matcher segregation tests bench tools
	$(BIN)/python -m mypy

bench: $(STAMP)-bench
	$(BIN)/python bench/session.py
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/e2e.py

clean:
	rm -rf $(VENV) build *.egg-info
