# Two commands set everything up on a fresh machine: `make run` and `make test`.
# `make check` is the fast loop for everyday work (lint, types, the fast tests, the CI workflow).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Every runtime and dev dependency, transitive ones included, pinned with hashes (CONTRIBUTING.md).
LOCK   := requirements/dev.txt
# The stamp's name changes with the lock and pyproject, so a pull that changes either reinstalls.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
# Tests that need no Linux service, no frozen build and no long loop: `make check` runs these.
FAST_TESTS := not slow and not frozen and not xvfb and not keyring_real

.PHONY: run demo test check lint typecheck pytest fast-tests actionlint bench dist clean system-deps venv lock cli-docs registry-json

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

## Re-resolve the locks after changing a pin in pyproject.toml (or to take new releases of the
## unpinned transitive dependencies). One universal lock serves Linux, macOS and Windows: the
## OS-specific packages (SecretStorage, jeepney, pywin32-ctypes, macholib, ...) carry markers.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet pyproject.toml requirements/build.in --extra dev --universal \
		--python-version 3.11 --generate-hashes -o requirements/dev.txt
	$(BIN)/uv pip compile --quiet pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--constraint requirements/dev.txt -o requirements/runtime.txt

system-deps:
	@scripts/install-system-deps.sh

## The product: the tray companion; with no AgentMux store here, against the demo sandbox.
run: system-deps $(STAMP)
	$(BIN)/agentmux-companion gui --demo-if-no-store

## The command-line walk-through in a throwaway sandbox.
demo: $(STAMP)
	$(BIN)/agentmux-companion demo

## Everything CI runs: lint, types, the workflow check, the whole test suite (real SQLite, real
## Secret Service in a private D-Bus session, the GUI offscreen and under Xvfb, the frozen binary).
test: system-deps $(STAMP) lint typecheck actionlint pytest

## The everyday loop, under a minute: lint, types, the workflow check and the fast tests.
check: $(STAMP) lint typecheck actionlint fast-tests

SHELL_SCRIPTS := $(wildcard scripts/*.sh packaging/linux/*.sh) .ci/run

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests benchmarks packaging scripts)
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

typecheck: $(STAMP)
	$(BIN)/mypy

actionlint: $(STAMP)
	$(BIN)/actionlint

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

fast-tests: $(STAMP)
	$(BIN)/python -m pytest -q -m "$(FAST_TESTS)" $(PYTEST_ARGS)

## docs/cli.md, completions/ and README's exit-code table, from the CLI's parser (a test checks them).
cli-docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

## The registry as the package reads it (resources/providers.json), after editing providers.toml.
registry-json: $(STAMP)
	$(BIN)/python scripts/gen_registry_json.py

bench: $(STAMP)
	@scripts/install-system-deps.sh --bench
	$(BIN)/python benchmarks/run_all.py

dist: system-deps $(STAMP)
	$(BIN)/python packaging/build.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache benchmarks/out
