"""Airflow on one machine with nothing to set up: a folder for AIRFLOW_HOME with a SQLite metadata database, the
project's DAGs, and runs through `airflow dags test` (every task of one DAG run, in one process).

The demo (`python -m devtools demo`) runs the real DAGs this way, and so do the DAG tests; each says where the DAG
folder is (an installed service has no repository to find it in). Tasks never touch this database (Airflow 3
forbids it); the DAGs read their config from `MMI_CONFIG`, passed in each run's environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schemas.errors import MMIError

AIRFLOW = Path(sys.executable).with_name("airflow")


class AirflowRunFailed(MMIError):
    """An Airflow command failed: the message ends with the tail of its output."""


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    """This process's environment without any Airflow or mmi setting of its own, pointed at `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "MMI_"))}
    return env | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


@dataclass(frozen=True)
class LocalAirflow:
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def prepared(cls, home: Path, dags: Path) -> LocalAirflow:
        """Migrate the metadata database in `home` and serialize the DAGs of folder `dags` into it (`airflow dags
        test` needs both)."""
        home.mkdir(parents=True, exist_ok=True)
        airflow = cls(home, airflow_env(home, dags))
        airflow.run("db", "migrate")
        airflow.run("dags", "reserialize")
        return airflow

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        command = [str(AIRFLOW), *args]
        done = subprocess.run(command, env=self.env | dict(env or {}), cwd=self.home, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
            raise AirflowRunFailed(f"`airflow {' '.join(args)}` exited {done.returncode}; its output ends:\n{tail}")
        return done

    def dags_test(self, dag_id: str, env: Mapping[str, str], conf: str | None = None) -> subprocess.CompletedProcess[str]:
        """One run of `dag_id` through `airflow dags test`; raises if the run failed."""
        return self.run("dags", "test", dag_id, *(["--conf", conf] if conf else []), env=env)
