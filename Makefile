# One entry point for people and CI alike: `make demo`, `make test`, `make bench`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo run test check lint typecheck pytest bench clean

# The PostgreSQL the storage tests use when POSTWATCH_TEST_PG_URL is not set and it answers.
LOCAL_PG := postgresql+psycopg://postgres@127.0.0.1:5432/test

$(BIN)/python:
	@echo "make: creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	@echo "make: installing postwatch and its dependencies into $(VENV) (first time: a minute or so)"
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	@echo "make: installing postwatch with its test tools into $(VENV) (first time: a minute or so)"
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/postwatch demo

run: $(VENV)/.runtime
	$(BIN)/postwatch run

lint: $(VENV)/.dev
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# The PostgreSQL variants run against $$POSTWATCH_TEST_PG_URL, else the local server when it
# answers (as CI's does); the line printed says which, so a skipped half is never silent.
pytest: $(VENV)/.dev
	@url="$${POSTWATCH_TEST_PG_URL:-}"; \
	if [ -z "$$url" ] && $(BIN)/python -c "import psycopg; psycopg.connect('$(LOCAL_PG:postgresql+psycopg%=postgresql%)', connect_timeout=3).close()" 2>/dev/null; then \
	  url="$(LOCAL_PG)"; \
	fi; \
	if [ -n "$$url" ]; then echo "make: the storage tests run on SQLite and on PostgreSQL ($$url)"; \
	else echo "make: no PostgreSQL at 127.0.0.1:5432 and POSTWATCH_TEST_PG_URL unset: its tests are skipped"; fi; \
	POSTWATCH_TEST_PG_URL="$$url" $(BIN)/pytest $(PYTEST_ARGS)

check: lint typecheck

# What CI runs (.ci/run): lint, types, then the whole suite.
test: check pytest

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
