# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORK ?= work

# Cached bytecode matters here: Airflow and GX import thousands of modules in every process.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint standalone cluster bench lock clean browser

# Bytecode is compiled once at install: where PYTHONDONTWRITEBYTECODE is set (it is on our machines) every
# `quancheng` process and Airflow task would otherwise compile Airflow, GX and pandas from source
# (importing quancheng.pipeline, GX, pandas and airflow.sdk: 17.3 s before, 7.3 s after, measured).
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)  ## seed the demo systems, run every system's DAG through Airflow, then two days of changes
	$(BIN)/quancheng demo run --dir $(WORK) --days 2

test: $(STAMP) browser  ## the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Headless Chromium (Debian's package) for the browser tests; without root they skip, except in CI.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk \
	  || echo "chromium not installed: browser tests will skip"; }

lint: $(STAMP)
	$(BIN)/ruff check include dags plugins tests benchmarks tools
	$(BIN)/mypy

standalone: $(STAMP)  ## optional: Airflow's web UI over the demo's AIRFLOW_HOME
	$(BIN)/quancheng demo standalone --dir $(WORK)

cluster: $(STAMP)  ## optional: the demo on the CeleryExecutor (local Redis and PostgreSQL), two workers
	$(BIN)/quancheng demo cluster --dir $(WORK)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lock:  ## re-resolve requirements.in into the pinned requirements.txt
	$(BIN)/uv pip compile --python-version 3.11 requirements.in -o requirements.txt --no-header

clean:
	rm -rf $(VENV) $(WORK)
