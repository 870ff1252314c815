"""Model versions: each trained model kept with who trained it and on what; one of them is current.

Training reads every current person record from the store into a scratch DuckDB database and trains
linkage.model's recipe on it. The same settings and term frequencies hash to the same version, so retraining to
an identical model adds no row; a new model becomes current, and the next `mmi link` re-scores everything with
it (a full run).

Nothing is trained on too little. The first `mmi link` trains only once every configured department has finished
a delivery, and reads the records with every department's ingest lock held, so that none is half read (the
first ingest to finish would otherwise give the model every later department is linked with); any training needs
enough pairs under each of its rules. Until then they raise NotReadyToTrain, and the link DAG skips its run
until the next ingest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, func, insert, select, update

from linkage.inputs import RECORDS
from linkage.model import MIN_TRAINING_PAIRS, training_pairs
from linkage.scoring import DUCKDB_ENGINE, LinkageEngine, TrainedModel
from mmi.index.inputs import load_person_records
from mmi.store.index_tables import model_version
from mmi.store.locks import step_lock
from mmi.store.tables import ingest_batch, source_record
from schemas.errors import NotReadyToTrain


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
    (a first link run has just read them into its workspace), so that they are not read from the store twice.

    Raises NotReadyToTrain, before any training, when a training rule would see fewer than
    linkage.model.MIN_TRAINING_PAIRS pairs."""
    duck = duckdb.connect()
    try:
        if loaded is None:
            records = load_person_records(engine, duck, RECORDS)
        else:
            duck.execute(f"CREATE TABLE {RECORDS} AS SELECT * FROM loaded")
            [(records,)] = duck.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()
        per_department = dict(duck.execute(f"SELECT department, count(*) FROM {RECORDS} GROUP BY ALL ORDER BY 1").fetchall())
        if short := {rule: count for rule, count in training_pairs(duck, RECORDS).items() if count < MIN_TRAINING_PAIRS}:
            rules = "; ".join(f"`{rule}` gives {count}" for rule, count in short.items())
            held = ", ".join(f"{department} {count}" for department, count in per_department.items()) or "none"
            raise NotReadyToTrain(
                f"not training yet: each training rule needs at least {MIN_TRAINING_PAIRS} pairs of records, and {rules} "
                f"(records held: {held}). Ingest the departments' full feeds first."
            )
        model = on.train(duck, RECORDS)
    finally:
        duck.close()
    with engine.connect() as connection:
        newest_version = connection.execute(select(func.max(source_record.c.id))).scalar_one()
    trained_on = {"records": records, "per_department": per_department, "newest_source_record_id": newest_version, "engine": on.name}
    return save_model_version(engine, model, trained_by, trained_on, now=now)


@contextlib.contextmanager
def departments_delivered(engine: Engine, departments: Sequence[str], lock_wait_seconds: float) -> Iterator[None]:
    """Hold every one of `departments`' ingest locks for the block, once each has finished a delivery (an ingest
    batch done); else raise NotReadyToTrain. What a first model trains on links every later run: no department may
    be missing from it, nor half read because its ingest was still writing. An ingest under way is waited for as
    any step's lock is (mmi.store.locks: StepLocked, a TransientError, past `lock_wait_seconds`)."""
    with contextlib.ExitStack() as locks:
        for department in departments:  # ingests take only their own lock: no order can deadlock with them
            locks.enter_context(step_lock(engine, f"ingest:{department}", lock_wait_seconds))
        with engine.connect() as connection:
            delivered = set(
                connection.execute(
                    select(ingest_batch.c.department).where(ingest_batch.c.department.in_(departments), ingest_batch.c.status == "done")
                ).scalars()
            )
        if undelivered := [department for department in departments if department not in delivered]:
            raise NotReadyToTrain(
                f"not training yet: the first model waits for every configured department's records, and "
                f"{', '.join(undelivered)} has not delivered yet. Link again once it has, or train on what is here with `mmi train`."
            )
        yield


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
