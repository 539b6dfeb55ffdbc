# The few commands people need. `make report` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RCCEVAL := $(VENV)/bin/rcceval
STAMP := $(VENV)/.installed
SYNTH := data/synthetic
SEED ?= 20240331

.PHONY: setup lint test test-slow test-fast report synth bench bench-derive system-deps lab docs pdf axe

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,docs,pdf]'
	touch $(STAMP)

# Lint (no auto-format): the rules and ignores are in pyproject.toml's [tool.ruff].
lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

# Two workers (the CI machine's two cores); one test file per worker, so each file's
# module-scoped fixtures (generated regions, fitted models) are built once. `make test` runs every
# check not marked slow (a few minutes); `make test-slow` the slow ones (region scale, calibration
# over many regions, a second full run for byte-identity), which CI runs after `make test`.
TEST_WORKERS ?= 2
test: $(STAMP) lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 -m slow

test-fast: $(STAMP)
	$(PY) -m pytest -x -m "not slow"

# Debian packages some checks need: headless Chromium (the report rendering test) and R with
# survival and cmprsk (the reference implementation the survival models are tested against).
# Run as root (CI does: .ci/run); skipped when already installed.
SYSTEM_PACKAGES := chromium chromium-driver r-base-core r-cran-survival r-cran-cmprsk r-cran-sandwich
system-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
	    Rscript -e 'library(survival); library(cmprsk); library(sandwich)' >/dev/null 2>&1; then \
	  echo "system packages present"; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	fi

# The main job: every report on the built-in synthetic region (generated on first use). One line a
# notebook (started; done in N s, partial or failed with the reason), terminal or not; no library
# deprecation noise.
report: $(STAMP)
	@PYTHONWARNINGS=ignore::DeprecationWarning,ignore::FutureWarning $(RCCEVAL) run parameters/default.yaml

# The run's one-page answer (and, with REPORTS=1, each report) printed to PDF by headless Chromium for
# committee papers: outputs/<RUN>/index.pdf. RUN is the run folder's name (the run_name parameter).
RUN ?= default
REPORTS ?=
pdf: $(STAMP)
	@$(RCCEVAL) pdf outputs/$(RUN) $(if $(REPORTS),--reports)

# axe-core (the accessibility checker the browser tests inject), from the npm registry into .cache/axe
# (git-ignored); the accessibility test fetches it the same way when it is missing.
axe:
	@$(PY) tests/a11y.py

# The workbench: JupyterLab on the notebooks in the project's Python (the "Python 3" kernel is this
# environment's interpreter); the jupytext sources notebooks/*.py open as notebooks (jupytext's
# contents manager; the default viewer is set in .jupyter/lab/settings/overrides.json).
LAB_ARGS ?=
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR)/notebooks \
	  --LabApp.app_settings_dir=$(CURDIR)/.jupyter/lab/settings $(LAB_ARGS)

# The API reference (pdoc) in docs/api/ (git-ignored): the package and each question's analysis
# (the analyses folder is a namespace package, so each is named).
ANALYSES := $(subst /,.,$(patsubst src/%/__init__.py,%,$(wildcard src/rcceval/analyses/*/__init__.py)))
docs: $(STAMP)
	@rm -rf docs/api
	@$(PY) -m pdoc --docformat markdown --output-directory docs/api rcceval $(ANALYSES)
	@echo "API reference: docs/api/index.html"

synth: $(STAMP)
	$(RCCEVAL) synth --out $(SYNTH)/region-seed$(SEED) --scale region --seed $(SEED) --force

# Timed runs (not tests): load/validate/derive at region and national scale, the question 1-3
# models and simulations, power curves. bench-derive alone is the quick one.
bench: $(STAMP) $(SYNTH)/region-seed$(SEED)/truth.json
	$(PY) benchmarks/bench_derive.py
	$(PY) benchmarks/bench_stability.py --data $(SYNTH)/region-seed$(SEED)
	$(PY) benchmarks/bench_survival.py --data $(SYNTH)/region-seed$(SEED)
	$(PY) benchmarks/bench_sufficiency.py --data $(SYNTH)/region-seed$(SEED)
	$(PY) benchmarks/bench_costing.py --data $(SYNTH)/region-seed$(SEED)
	$(PY) benchmarks/bench_power.py $(SYNTH)/region-seed$(SEED)

bench-derive: $(STAMP)
	$(PY) benchmarks/bench_derive.py

$(SYNTH)/region-seed$(SEED)/truth.json: | $(STAMP)
	$(RCCEVAL) synth --out $(SYNTH)/region-seed$(SEED) --scale region --seed $(SEED) --force
