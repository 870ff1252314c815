# The mmi image: the project installed with the exact versions of uv.lock, Airflow included (a dependency), and the
# DAGs. Its entry point is `mmi`; docker-compose.yml runs Airflow's services from the same image as `airflow ...`.
# Java 17 for Spark's driver: with `[linkage] backend = "spark"`, the link task drives Splink on the compose file's
# Spark cluster (bookworm: the Debian release that packages Java 17).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY mmi mmi
COPY connectors connectors
COPY linkage linkage
COPY schemas schemas
COPY dags dags
RUN uv sync --frozen --no-dev --compile-bytecode
ENV PATH="/app/.venv/bin:$PATH"
ENTRYPOINT ["mmi"]
