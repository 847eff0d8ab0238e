# Two commands a new user needs: `make run` and `make test` (Python 3.11 and make, nothing else).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-pure install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each install leaves a stamp in the venv and is redone only when pyproject.toml or the compiled
# compiled hot path changes (the install is editable), so `make run` starts at once. The install
# compiles gateway/fix/_speedups.c and, with mypyc, the modules setup.py lists, where a C compiler
# exists; where none does it goes on and the pure-Python build runs (the `listening` log line says
# which). A compiled module older than its .py is never run (matcher/_pure.py): the source runs
# until the next `make` reinstalls.
STAMP := $(VENV)/.installed
BUILD_INPUTS := pyproject.toml setup.py gateway/fix/_speedups.c $(wildcard matcher/*.py) \
	$(wildcard gateway/*.py) $(wildcard gateway/fix/*.py)

$(STAMP)-%: $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	touch $@ $(STAMP)

$(STAMP): $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(STAMP)

install-test: $(STAMP)-test

run: install
	$(BIN)/ats-gateway $(ARGS)

# pytest exits 5 when it collects nothing; treat that as a failure of the suite only if tests exist.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The same suite against the pure-Python twins of the compiled hot path (CI runs both).
test-pure: install-test
	ATS_PURE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test $(STAMP)-dev
	$(BIN)/python -m ruff check gateway ats_tools matcher segregation tests bench tools
	$(BIN)/python -m mypy

bench: $(STAMP)-bench
	$(BIN)/python bench/session.py
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/order_path.py
	$(BIN)/python bench/instructions.py

clean:
	rm -rf $(VENV) build *.egg-info gateway/fix/_speedups.*.so
