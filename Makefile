# Two commands for a fresh machine: `make run` and `make test` (each creates .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install tools run test lint contract bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Debian's packages the tests use: docker-compose validates docker-compose.yml offline,
# chromium is the real browser the gateway's pages are tested in (driven by Playwright).
tools:
	@command -v docker-compose >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		docker-compose chromium >/dev/null; }

run: install
	$(BIN)/caprural dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint tools
	$(BIN)/pytest -n 2 --dist loadgroup

# Benchmarks against raw baselines (figures in benchmarks/results/latest.json).
bench: install
	$(BIN)/python -m benchmarks.run --size full

contract: install
	$(BIN)/python -m shared.contract.docs

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
