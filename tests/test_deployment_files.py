"""The deployment files parse and name what the README says they do (schema validation comes with Airflow)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_runs_ingest_against_its_postgres() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "ingest"} <= set(services)
    assert services["ingest"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "@postgres:5432/" in services["ingest"]["environment"]["MMI_STORE_URL"]


def test_the_image_installs_every_package_the_wheel_ships() -> None:
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert all(f"COPY {package} {package}" in dockerfile for package in packages)
