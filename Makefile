# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run demo test lint typecheck pytest bench dist clean system-deps venv cli-docs

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

## The product: the tray companion; with no AgentMux store here, against the demo sandbox.
run: system-deps $(STAMP)
	$(BIN)/agentmux-companion gui --demo-if-no-store

## The command-line walk-through in a throwaway sandbox.
demo: $(STAMP)
	$(BIN)/agentmux-companion demo

## Everything CI runs: lint, types, the whole test suite (real SQLite, real Secret Service in a
## private D-Bus session, the GUI offscreen and under Xvfb, the frozen binary).
test: system-deps $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests benchmarks packaging scripts)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## docs/cli.md, completions/ and README's exit-code table, from the CLI's parser (a test checks them).
cli-docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

bench: system-deps $(STAMP)
	$(BIN)/python benchmarks/run_all.py

dist: system-deps $(STAMP)
	$(BIN)/python packaging/build.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache benchmarks/out
