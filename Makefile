# The one entry point for every job of the course. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := rnn-course

MODE ?= quick
DEVICE ?= auto
SEED ?= 0
JOBS ?= 2
THREADS ?= 1
NB ?=
SEEDS ?= 0 1 2
# robustness takes THREADS as a list; its default is "1 2" unless THREADS is given.
ROBUST_THREADS = $(if $(filter command line environment,$(origin THREADS)),$(THREADS),1 2)

# $(call apt_install,COMMAND,PACKAGE,WHY): apt-get install PACKAGE when COMMAND is missing
# (as root, or through sudo); elsewhere say what to install and stop.
apt_install = command -v $(1) >/dev/null 2>&1 || { \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2); \
	elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2); \
	else \
		echo "$(3): install $(2) with your package manager"; exit 1; \
	fi; }

.PHONY: help all install notebooks merge-reports robustness bench bench-notebooks bench-layers bench-quality bench-grading test lint lab clean

help: ## list every target with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  variables: MODE=quick|full DEVICE=auto|cpu|cuda SEED=0 JOBS=2 (notebooks at once)"
	@echo "             THREADS=1 (PyTorch threads per notebook) NB=<notebook paths> SHARD=i/N"
	@echo "             robustness: SEEDS=\"0 1 2\" THREADS=\"1 2\" (lists)"
	@echo "             grading: JOBS=2 (submissions at once)  test: TEST_JOBS=2 (pytest workers)"

all: install notebooks ## install, execute every notebook (MODE, DEVICE, JOBS) and print the report

install: $(STAMP) ## create .venv, install the pinned dependencies and register the Jupyter kernel

$(STAMP): pyproject.toml jupyter/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
		"Python 3.11 is needed, found " + sys.version.split()[0] + ": set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "RNN course (.venv)"
	# A classroom JupyterLab: no question about fetching news, no update checks.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	mkdir -p exchange  # nbgrader's exchange folder (nbgrader_config.py), for the Assignment List
	touch $(STAMP)

notebooks: $(STAMP) ## run lectures/ and solutions/ with papermill into build/ (MODE DEVICE SEED JOBS THREADS NB SHARD=i/N)
	$(PY) -m coursetools.notebooks --mode $(MODE) --device $(DEVICE) --seed $(SEED) \
		--jobs $(JOBS) --threads $(THREADS) --kernel $(KERNEL) $(if $(SHARD),--shard $(SHARD)) $(NB)

merge-reports: $(STAMP) ## merge build/report-shard-*.json (make notebooks SHARD=i/N) into build/report.json
	$(PY) -m coursetools.shards merge

robustness: $(STAMP) ## run every notebook for each of SEEDS="0 1 2" x THREADS="1 2": one table (MODE NB JOBS)
	$(PY) -m coursetools.robustness --mode $(MODE) --device $(DEVICE) --seeds $(SEEDS) \
		--threads $(ROBUST_THREADS) --jobs $(JOBS) --kernel $(KERNEL) $(NB)

bench: bench-notebooks bench-layers bench-grading bench-quality ## every benchmark of bench/, each against its baseline in the same run

bench-notebooks: $(STAMP) ## seconds per notebook in quick mode, one at a time against JOBS at once (NB)
	$(PY) -m bench.notebooks --jobs $(JOBS) $(NB)

bench-layers: $(STAMP) ## rnn_lib's RNN/LSTM/GRU layers against torch.nn's, same weights (SIZES THREADS)
	$(PY) -m bench.layers --threads $(THREADS) $(if $(SIZES),--sizes $(SIZES))

# Model quality is measured in full mode unless MODE is given (MODE=quick: minutes, not hours).
QUALITY_MODE = $(if $(filter command line environment,$(origin MODE)),$(MODE),full)
bench-quality: $(STAMP) ## every figure the notebooks claim beside its baseline, full mode (MODE DEVICE JOBS NB)
	$(PY) -m bench.quality --mode $(QUALITY_MODE) --device $(DEVICE) --jobs $(JOBS) $(NB)

STUDENTS ?= 2
bench-grading: $(STAMP) sandbox-deps ## seconds per submission per lab, JOBS=1 against JOBS (STUDENTS=2 LABS)
	$(PY) -m bench.grading --students $(STUDENTS) --jobs $(JOBS) $(if $(LABS),--labs $(LABS))

# Two test workers share two cores: one PyTorch thread each (more would oversubscribe them).
test: $(STAMP) sandbox-deps publish-deps browser-deps lint ## lint, then the whole test suite (library, every notebook in quick mode, grading)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(or $(TEST_JOBS),2) --dist loadgroup

lint: $(STAMP) ## ruff on code and notebooks; the GitHub workflows and pre-commit config validated offline
	$(VENV)/bin/ruff check rnn_lib coursetools tests bench publish lectures solutions
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/pre-commit validate-config .pre-commit-config.yaml

# The venv first on PATH: Formgrader runs nbgrader's `alembic` when it creates the gradebook.
LAB_ARGS ?=
lab: $(STAMP) ## start JupyterLab on the course's kernel, with Formgrader, Assignment List and RISE (LAB_ARGS)
	mkdir -p exchange  # the Assignment List's exchange (nbgrader_config.py); gone if deleted
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/jupyter lab $(LAB_ARGS)

clean: ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache

include grading.mk
include publish.mk
