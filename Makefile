# make run: set up .venv, build the sandbox image if a Docker daemon answers, run the default
# benchmark (in Docker if a daemon answers, else in local sandboxes), then print its report.
# make test: set up .venv and run the linters, the type checker and the whole test suite.
# make test-stress: the suite under CPU load (stress-ng).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-stress lint bench clean

# tests/plugin: an example plug-in distribution the tests use (registered by entry points).
$(STAMP): pyproject.toml tests/plugin/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e tests/plugin
	touch $@

run: $(STAMP)
	$(BIN)/researchgym sandbox build --if-docker
	$(BIN)/researchgym run
	$(BIN)/researchgym report

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd tests/plugin && ../../$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The suite (or ARGS, e.g. ARGS=tests/security) while stress-ng keeps every CPU busy: tests
# must not depend on a quiet machine.
test-stress: $(STAMP)
	stress-ng --cpu $$(nproc) --quiet --timeout 1h & load=$$!; \
	$(BIN)/pytest $(ARGS); status=$$?; kill $$load; exit $$status

bench: $(STAMP)
	$(BIN)/python benchmarks/storage.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/suite.py
	$(BIN)/python benchmarks/file_tools.py
	$(BIN)/python benchmarks/faces.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
