# Two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# Debian packages the suite and the benchmarks drive: wrk (HTTP load, loopback
# only), chromium + chromium-driver (sieve.js in a real browser), strace (the
# label-durability test traces a worker's fsyncs), postgresql (the stores and
# the two-instance tests start their own server with initdb, on loopback).
# Installed when missing.
SYSTEM_PACKAGES := wrk chromium chromium-driver strace postgresql
SYSTEM := command -v wrk >/dev/null && [ -x /usr/bin/chromium ] && \
	[ -x /usr/bin/chromedriver ] && command -v strace >/dev/null && \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	$(SYSTEM_PACKAGES))

# A C compiler builds the scoring kernel (model/_kernel.pyx) at install time;
# without one the install still works, on the slower numpy path.
COMPILER := command -v cc >/dev/null || (apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev)

.PHONY: run test bench model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml setup.py model/_kernel.pyx | $(BIN)/python
	@$(COMPILER)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# fastText, matplotlib: the benchmarks' own dependencies (tests/test_benchmarks.py too).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	$(BIN)/headline-sieve serve

# Two processes (pytest-xdist), each test file on one of them: a file's module
# fixtures (a trained model, a browser, a PostgreSQL server) are made once.
test: $(BENCH_STAMP)
	@$(SYSTEM)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Writes benchmarks/results/{report.md,results.json,training_scale.png}; ~15 min.
bench: $(BENCH_STAMP)
	@$(SYSTEM)
	$(BIN)/python -m benchmarks

# Rebuild the bundled default model from ../shared/datasets.
model: $(STAMP)
	$(BIN)/headline-sieve train --recipe default --out model/bundled

clean:
	rm -rf $(VENV) .pytest_cache model/_kernel.c model/_kernel.*.so
