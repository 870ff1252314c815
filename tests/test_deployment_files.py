"""The deployment files: docker-compose.yml is valid by the Compose Specification's JSON schema (vendored in
tests/vendor/compose-spec) and runs what the README says it does; the image and the config it mounts fit it."""

from __future__ import annotations

import ast
import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).parent / "vendor" / "compose-spec" / "compose-spec.json"
AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)  # the schema's $schema: draft-07
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def _set(path: str, value: Any) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = document
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _set("services/airflow-scheduler/dependson", ["postgres"]),  # a misspelt key
        _set("services/mmi-web/ports", {"8700": 8700}),  # ports are a list
        _set("services/airflow-scheduler/depends_on/airflow-init/condition", "service_ready"),  # no such condition
        _set("services/postgres/restart", 5),  # a policy's name, not a number
        _set("volumes/mmi var", None),  # not a valid volume name
        _set("secret_stuff", {"password": "x"}),  # top-level keys are the specification's or x-…
    ],
    ids=["misspelt-key", "ports-mapping", "unknown-condition", "restart-number", "volume-name", "top-level-key"],
)
def test_the_schema_rejects_a_broken_variant(compose: dict[str, Any], mutate: Any) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert schema_errors(broken)


def test_airflow_and_the_web_service_run_on_the_project_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "airflow-postgres", "airflow-init", "mmi-init", "mmi-web", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        service = services[name]
        assert service["build"] == "." and service["entrypoint"] == ["airflow"] and service["command"][0] == command, name
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        environment = service["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert "@airflow-postgres:5432/" in environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert "@postgres:5432/" in environment["MMI_STORE_URL"]
        assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-api-server:8080/")
    assert services["airflow-init"]["command"] == ["db", "migrate"]
    assert services["mmi-web"]["build"] == "." and services["mmi-web"]["command"][0] == "serve"
    assert "@postgres:5432/" in services["mmi-web"]["environment"]["MMI_STORE_URL"]


def test_celery_runs_the_tasks_with_redis_as_the_broker_and_linkage_on_its_own_queue(compose: dict[str, Any]) -> None:
    services = compose["services"]
    redis = services["redis"]
    assert redis["image"].startswith("redis:") and "ports" not in redis  # the broker is reached inside the network only
    assert redis["command"][:3] == ["redis-server", "--requirepass", "${AIRFLOW_REDIS_PASSWORD:?set AIRFLOW_REDIS_PASSWORD in .env}"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"] and redis["environment"]["REDISCLI_AUTH"] == redis["command"][2]
    for name in AIRFLOW_SERVICES:
        environment = services[name]["environment"]
        broker = re.fullmatch(
            r"redis://default:\$\{AIRFLOW_REDIS_PASSWORD:\?[^}]*\}@redis:6379/\d+", environment["AIRFLOW__CELERY__BROKER_URL"]
        )
        assert broker, name
        assert environment["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg://airflow:")
        assert environment["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@airflow-postgres:5432/airflow")
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
    worker = services["airflow-worker"]
    assert worker["command"][:2] == ["celery", "worker"]
    served = set(worker["command"][worker["command"].index("--queues") + 1].split(","))
    environment = worker["environment"]
    # The queues the DAGs send to (the linkage task's, every other task's) are the queues a worker serves.
    assert served == {environment["MMI_LINKAGE_QUEUE"], environment["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]}
    assert environment["MMI_LINKAGE_QUEUE"] != environment["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    # Tasks run in the worker: it mounts what the scheduler did under the LocalExecutor (config, drops, mmi-var).
    assert worker["volumes"] == services["airflow-scheduler"]["volumes"] and "mmi-var:/var/lib/mmi" in worker["volumes"]
    assert "celery_executor.app inspect ping" in worker["healthcheck"]["test"][1]


def test_the_linkage_queue_the_compose_file_names_is_the_one_the_dag_sends_to(compose: dict[str, Any]) -> None:
    source = (ROOT / "dags" / "link_master_index.py").read_text(encoding="utf-8")
    queues = [
        keyword.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "queue"
    ]
    assert [ast.unparse(value) for value in queues] == ["LINKAGE_QUEUE"]  # the task's queue is the setting
    shared = (ROOT / "dags" / "mmi_shared.py").read_text(encoding="utf-8")
    assert 'LINKAGE_QUEUE = os.environ.get("MMI_LINKAGE_QUEUE") or "linkage"' in shared
    assert compose["services"]["airflow-dag-processor"]["environment"]["MMI_LINKAGE_QUEUE"] == "linkage"


def test_every_dependency_and_named_volume_is_declared(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], set(compose["volumes"])
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services) - {name}, name
        named = {mount.split(":")[0] for mount in service.get("volumes", []) if not mount.startswith((".", "/", "$"))}
        assert named <= volumes, name


def test_secrets_come_from_the_env_file(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    optional = set(re.findall(r"\$\{(\w+):-", text))
    example = {
        line.split("=")[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert {
        "MMI_POSTGRES_PASSWORD",
        "AIRFLOW_POSTGRES_PASSWORD",
        "AIRFLOW_REDIS_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
    } <= required
    assert required | optional <= example
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY|TOKEN|AUTH)$", key):
                assert value.startswith("${"), (name, key)  # a secret, written into the compose file
            if "://" in value and "@" in value:
                assert re.search(r"://\w+:\$\{\w+:\?[^}]*\}@", value), (name, key)  # a password in a URL, from .env
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_the_tasks_see_the_config_dags_and_drop_folders(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from mmi.config import load_settings

    scheduler = compose["services"]["airflow-worker"]  # where the tasks run (CeleryExecutor)
    parsed = (re.fullmatch(r"(.+?):(/[^:]*)(?::(\w+))?", mount) for mount in scheduler["volumes"])  # source:target[:ro]
    mounts = {match[2]: (match[1], match[3]) for match in parsed if match}
    assert len(mounts) == len(scheduler["volumes"])
    config_source, config_options = mounts[scheduler["environment"]["MMI_CONFIG"]]
    assert config_options == "ro"
    for name in ("MMI_STORE_URL", "MMI_PUBLIC_SECURITY_URL", "MMI_HEALTH_TOKEN"):
        monkeypatch.setenv(name, "postgresql+psycopg://u@h/d" if name.endswith("URL") else "token")
    settings = load_settings(ROOT / config_source)
    assert settings.configured_sources == ["public_security", "human_resources", "statistics", "health"]
    for folder in (settings.sources["human_resources"], settings.sources["statistics"]):
        assert folder and mounts[str(folder.drop_dir)][1] == "ro"  # each drop folder mounted, read-only
    var = next(target for target, (source, _options) in mounts.items() if source == "mmi-var")
    assert settings.linkage.workspace.is_relative_to(var)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert scheduler["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == "/app/dags"
    assert "WORKDIR /app" in dockerfile and "COPY dags dags" in dockerfile


def test_the_image_installs_every_package_the_wheel_ships() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]["wheel"][
        "packages"
    ]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert all(f"COPY {package} {package}" in dockerfile for package in packages)


def test_the_link_task_drives_splink_on_the_compose_files_spark_cluster(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from mmi.config import load_settings

    services = compose["services"]
    master, worker, driver = services["spark-master"], services["spark-worker"], services["airflow-worker"]
    # The official image, of the Spark version the driver's pyspark is (uv.lock): a mismatch fails at the first job.
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    [pyspark] = [package["version"] for package in lock["package"] if package["name"] == "pyspark"]
    for service in (master, worker):
        image, _, tag = service["image"].partition(":")
        assert image == "apache/spark" and tag.split("-")[0] == pyspark and "java17" in tag, service["image"]
    assert master["command"][-4:] == ["--host", "spark-master", "--port", "7077"]
    assert worker["command"][1:] == ["org.apache.spark.deploy.worker.Worker", "spark://spark-master:7077"]
    assert worker["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert driver["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert set(driver["depends_on"]) > {"redis", "airflow-init", "mmi-init"}  # the shared dependencies kept
    # The config the link task reads sends Splink to that master, and executors back to the driver by its hostname.
    for name in ("MMI_STORE_URL", "MMI_PUBLIC_SECURITY_URL", "MMI_HEALTH_TOKEN"):
        monkeypatch.setenv(name, "postgresql+psycopg://u@h/d" if name.endswith("URL") else "token")
    settings = load_settings(ROOT / "deploy" / "mmi.toml")
    assert settings.linkage.backend == "spark" and settings.spark.master == worker["command"][-1]
    assert settings.spark.conf["spark.driver.host"] == driver["hostname"]
    # Executors read and write the Parquet beside the workspace: the same volume at the same path as the driver.
    assert "mmi-var:/var/lib/mmi" in worker["volumes"] and "mmi-var:/var/lib/mmi" in driver["volumes"]
    assert settings.linkage.workspace.with_suffix(".spark").is_relative_to("/var/lib/mmi")
    assert "openjdk-17-jre-headless" in (ROOT / "Dockerfile").read_text(encoding="utf-8")  # the driver's Java
