# The two commands a newcomer needs: `make demo` and `make test`. Both install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo
DEMO_PEOPLE ?= 3000

.PHONY: install demo test test-sqlite test-dags lint format bench-ingest bench-blocking bench-linkage bench-publish bench-grid bench-versus-baseline bench-review bench-indicators bench-end-to-end bench-link-stages bench-spark clean

install: $(VENV)/.installed

# uv installs exactly what uv.lock pins; it comes from PyPI itself, so a fresh machine needs only Python and pip.
$(VENV)/.installed: pyproject.toml uv.lock
	$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

demo: install
	$(BIN)/python -m devtools demo --out $(DEMO_DIR) --people $(DEMO_PEOPLE)

# The whole suite, on SQLite and PostgreSQL (PostgreSQL must be reachable: see .ci/run for starting it).
test: install
	MMI_REQUIRE_POSTGRES=1 $(BIN)/pytest

# Without PostgreSQL: the PostgreSQL variants are skipped, with the reason printed.
test-sqlite: install
	$(BIN)/pytest -m "not postgres"

# The Airflow DAGs alone: parsing, `airflow dags test` of every DAG on generated feeds, the compose file (~5 min).
test-dags: install
	$(BIN)/pytest tests/dags tests/mmi/test_tasks.py tests/test_deployment_files.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mmi connectors linkage schemas synthetic devtools

bench-ingest: install
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) $(DEMO_DIR) var

bench-blocking: install
	$(BIN)/python -m bench.blocking

bench-linkage: install
	$(BIN)/python -m bench.linkage

bench-publish: install
	$(BIN)/python -m bench.publish

# Precision and recall across population mixes (tuned and held-out cells at 20,000 people), then the 200,000 targets.
bench-grid: install
	$(BIN)/python -m bench.grid --roles tuned held-out target

# mmi ingest + first mmi link against the plain-Splink baseline on the same feeds (20,000 people, twins 5%, namesakes 6%).
bench-versus-baseline: install
	$(BIN)/python -m bench.versus_baseline

bench-review: install
	$(BIN)/python -m bench.review

# Every indicator at every level, and one worklist, over ~1M source records (a linked 20,000-person store copied 22 times).
bench-indicators: install
	$(BIN)/python -m bench.indicators

# ingest -> first link -> publish at ~1M source records, then the daily 1%, on SQLite and PostgreSQL.
bench-end-to-end: install
	$(BIN)/python -m bench.end_to_end

# Where a first mmi link's time and memory go, stage by stage (50,000 people; --profile adds a cProfile).
bench-link-stages: install
	$(BIN)/python -m bench.link_stages

# The same store linked on DuckDB and on Spark local[2] (needs Java 17), side by side.
bench-spark: install
	$(BIN)/python -m bench.spark --people 20000 50000

# Formats the tree with the settings of pyproject's [tool.ruff.format].
format: install
	$(BIN)/ruff format .
