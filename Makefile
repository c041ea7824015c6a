# Two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# The HTTP benchmark drives Debian's wrk (loopback only).
WRK := command -v wrk >/dev/null || (apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

.PHONY: run test bench model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# fastText, matplotlib: the benchmarks' own dependencies (tests/test_benchmarks.py too).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	$(BIN)/headline-sieve serve

test: $(BENCH_STAMP)
	@$(WRK)
	$(BIN)/python -m pytest

# Writes benchmarks/results/{report.md,results.json,training_scale.png}; ~15 min.
bench: $(BENCH_STAMP)
	@$(WRK)
	$(BIN)/python -m benchmarks

# Rebuild the bundled default model from ../shared/datasets.
model: $(STAMP)
	$(BIN)/headline-sieve train --recipe default --out model/bundled

clean:
	rm -rf $(VENV) .pytest_cache
