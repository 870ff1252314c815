# The mmi image: the project installed with the exact versions of uv.lock.
FROM python:3.11-slim
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY mmi mmi
COPY connectors connectors
COPY linkage linkage
COPY schemas schemas
COPY synthetic synthetic
RUN uv sync --frozen --no-dev --compile-bytecode
ENV PATH="/app/.venv/bin:$PATH"
ENTRYPOINT ["mmi"]
