"""Model versions: each trained model kept with who trained it and on what; one of them is current.

Training reads every current person record from the store into a scratch DuckDB database and trains
linkage.model's recipe on it. The same settings and term frequencies hash to the same version, so retraining to
an identical model adds no row; a new model becomes current, and the next `mmi link` re-scores everything with
it (a full run).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, func, insert, select, update

from linkage.inputs import RECORDS
from linkage.scoring import DUCKDB_ENGINE, LinkageEngine, TrainedModel
from mmi.index.inputs import load_person_records
from mmi.store.index_tables import model_version
from mmi.store.tables import source_record


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model: TrainedModel
    sha256: str
    trained_by: str
    trained_at: dt.datetime


def train_and_store(
    engine: Engine,
    trained_by: str,
    *,
    now: dt.datetime | None = None,
    on: LinkageEngine = DUCKDB_ENGINE,
    loaded: pa.RecordBatchReader | None = None,
) -> ModelVersion:
    """Train on the store's current person records (with Splink `on` an engine) and make the result the current
    model version. Either engine stores the model with its levels in DuckDB's SQL (linkage.scoring.trained_model):
    the same model, whichever trained it. `loaded`: those records as linkage.inputs' table already holds them
    (a first link run has just read them into its workspace), so that they are not read from the store twice."""
    duck = duckdb.connect()
    if loaded is None:
        records = load_person_records(engine, duck, RECORDS)
    else:
        duck.execute(f"CREATE TABLE {RECORDS} AS SELECT * FROM loaded")
        [(records,)] = duck.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()
    per_department = dict(duck.execute(f"SELECT department, count(*) FROM {RECORDS} GROUP BY ALL ORDER BY 1").fetchall())
    model = on.train(duck, RECORDS)
    duck.close()
    with engine.connect() as connection:
        newest_version = connection.execute(select(func.max(source_record.c.id))).scalar_one()
    trained_on = {"records": records, "per_department": per_department, "newest_source_record_id": newest_version, "engine": on.name}
    return save_model_version(engine, model, trained_by, trained_on, now=now)


def save_model_version(
    engine: Engine, model: TrainedModel, trained_by: str, trained_on: dict[str, Any], *, now: dt.datetime | None = None
) -> ModelVersion:
    """Keep `model` as a version (once per hash) and make it the current one."""
    with engine.begin() as connection:
        existing = connection.execute(select(model_version.c.id).where(model_version.c.sha256 == model.sha256)).scalar()
        connection.execute(update(model_version).values(is_current=False))
        if existing is None:
            connection.execute(
                insert(model_version).values(
                    sha256=model.sha256,
                    settings=json.dumps(model.settings, ensure_ascii=False),
                    term_frequencies=json.dumps(model.term_frequencies, ensure_ascii=False),
                    trained_at=now or dt.datetime.now(dt.UTC),
                    trained_by=trained_by,
                    trained_on=json.dumps(trained_on),
                    is_current=True,
                )
            )
        else:
            connection.execute(update(model_version).where(model_version.c.id == existing).values(is_current=True))
    current = current_model(engine)
    assert current is not None
    return current


def current_model(engine: Engine) -> ModelVersion | None:
    with engine.connect() as connection:
        row = connection.execute(select(model_version).where(model_version.c.is_current.is_(True))).one_or_none()
    if row is None:
        return None
    model = TrainedModel(json.loads(row.settings), json.loads(row.term_frequencies))
    return ModelVersion(row.id, model, row.sha256, row.trained_by, row.trained_at)
