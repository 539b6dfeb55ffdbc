# The few commands people need. `make report` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RCCEVAL := $(VENV)/bin/rcceval
STAMP := $(VENV)/.installed
SYNTH := data/synthetic
SEED ?= 20240331

.PHONY: setup test test-fast report synth bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

$(SYNTH)/truth.json: | $(STAMP)
	$(RCCEVAL) synth --out $(SYNTH) --scale region --seed $(SEED)

synth: $(SYNTH)/truth.json

# Until the report runner lands: validate the built-in region, derive its placements and print
# the DfE stability measures. Child-level tables stay under data/ (never outputs/).
report: $(STAMP) $(SYNTH)/truth.json
	$(RCCEVAL) validate $(SYNTH) --out data/derived/validation_problems.csv
	$(RCCEVAL) placements $(SYNTH) --out data/derived/placements.parquet
	$(RCCEVAL) stability $(SYNTH)

bench: $(STAMP)
	$(PY) benchmarks/bench_derive.py
