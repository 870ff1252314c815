"""Development tools: what a developer runs beside the service, never part of it (nor of its wheel).

- `python -m devtools generate | generate-delta | health-api | demo` (devtools.cli): synthetic feeds (the
  `synthetic` package, the generator), the health department's API served locally, and the demo;
- devtools.demo: the whole flow through the real Airflow DAGs on generated feeds, then the exchange API;
- devtools.feeds: generate feeds, serve their health API and write their config, as the demo, the tests and the
  benchmarks need them.

They know where the repository is (`REPOSITORY`, `DAGS`); the production package (`mmi`) does not, and imports
nothing from here or from `synthetic` (tests/test_architecture.py checks it).
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DAGS = REPOSITORY / "dags"  # the project's Airflow DAG folder, which the demo and the DAG tests run
