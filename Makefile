# Two commands on a fresh machine (Linux, Python 3.11, package registries only):
#   make train   set everything up, then run the main job on the embedded default
#   make test    set everything up, then run the whole test suite (what CI runs)
# make test-fast: the suite without the `slow` learning runs and long end-to-end jobs
STACK ?= cpu
RAYTOOL_CACHE ?= $(HOME)/.cache/raytool
VENV ?= $(RAYTOOL_CACHE)/venv-$(STACK)
PYTEST_ARGS ?=
export RAYTOOL_CACHE HF_HUB_OFFLINE=1

.PHONY: setup train test test-fast lint bench
setup:
	@RAYTOOL_STACK=$(STACK) RAYTOOL_VENV=$(VENV) bash scripts/bootstrap.sh

train: setup
	$(VENV)/bin/raytool train

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(VENV)/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check raytool tests benchmarks && $(VENV)/bin/ruff format --check raytool tests benchmarks

bench: setup
	$(VENV)/bin/python benchmarks/importers.py
