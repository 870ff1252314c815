"""Helpers for review tests: truth, training, and changing a department's row the way the department would."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, insert, select

from linkage.inputs import RECORDS
from linkage.scoring import TrainedModel, train_model
from mmi.config import Settings
from mmi.index.inputs import load_person_records
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.index_tables import link_conflict, linkage_run, master_xref, match_pair
from mmi.store.tables import source_record
from tests.mmi.index.conftest import _serving


def train_on(settings: Settings) -> TrainedModel:
    with _serving(settings) as served:
        engine = open_store(served.store_url)
        ingest(served, engine, parallel=False)
    duck = duckdb.connect()
    load_person_records(engine, duck, RECORDS)
    engine.dispose()
    return train_model(duck, RECORDS)


def truth(feeds: Path) -> dict[str, str]:
    """Record key → the generator's person."""
    with (feeds / "truth.csv").open(encoding="utf-8") as handle:
        return {f"{row['department']}|{row['source_key']}": row["person"] for row in csv.DictReader(handle)}


def masters(engine: Engine) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    with engine.connect() as connection:
        for department, key, master in connection.execute(
            select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id)
        ):
            groups[master].add(f"{department}|{key}")
    return dict(groups)


def false_merges(engine: Engine, people: dict[str, str]) -> dict[str, set[str]]:
    """Masters whose records belong to more than one true person."""
    return {master: records for master, records in masters(engine).items() if len({people.get(key) for key in records}) > 1}


def cluster_to_split(
    items: list[Any], wrong: dict[str, set[str]], people: dict[str, str], members: dict[str, set[str]]
) -> tuple[Any, list[list[str]]]:
    """A cluster item to split, a real false merge if the index made one (with issue 9's conflict rule it seldom
    does), and its records grouped by true person (or, for one person, one record taken apart from the rest)."""
    item = next((item for item in items if item_masters(item)[0] in wrong), items[0])
    records = sorted(members[item_masters(item)[0]])
    groups: dict[str, list[str]] = {}
    for key in records:
        groups.setdefault(people[key], []).append(key)
    return item, list(groups.values()) if len(groups) > 1 else [records[:1], records[1:]]


def item_masters(item: Any) -> list[str]:
    return list(item["masters"] if isinstance(item, dict) else item.masters)


def record_identities(engine: Engine) -> dict[str, tuple[str | None, bool | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(source_record.c.department, source_record.c.source_key, source_record.c.id_number, source_record.c.id_valid).where(
                source_record.c.is_current.is_(True)
            )
        )
        return {f"{d}|{k}": (number, valid) for d, k, number, valid in rows}


def add_identity_conflicts(engine: Engine) -> int:
    """What the identity-conflict rule (issue 9) records, until it lands: every pair scored at or above the match
    threshold whose records carry two different valid ID numbers, as a `link_conflict` row. Returns the count."""
    ids = record_identities(engine)
    with engine.begin() as connection:
        run = connection.execute(select(linkage_run).order_by(linkage_run.c.id.desc()).limit(1)).one()
        pairs = connection.execute(select(match_pair).where(match_pair.c.match_probability >= run.match_threshold)).all()
        master_of = {
            f"{d}|{k}": m
            for d, k, m in connection.execute(select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id))
        }
        rows = [
            {
                "left_key": pair.left_key,
                "right_key": pair.right_key,
                "rule": "different_valid_ids",
                "detail": "both ID numbers are valid and differ in the sequence and check character",
                "conflicting_left_key": pair.left_key,
                "conflicting_right_key": pair.right_key,
                "match_probability": pair.match_probability,
                "match_weight": pair.match_weight,
                "left_master_id": master_of.get(pair.left_key),
                "right_master_id": master_of.get(pair.right_key),
                "model_version_id": pair.model_version_id,
                "run_id": run.id,
            }
            for pair in pairs
            if ids[pair.left_key][1] and ids[pair.right_key][1] and ids[pair.left_key][0] != ids[pair.right_key][0]
        ]
        if rows:
            connection.execute(insert(link_conflict), rows)
    return len(rows)


def change_public_security_row(feeds: Path, source_key: str, phone: str) -> None:
    """The department corrects a registration: a new phone number and a newer GXSJ, as its system would stamp."""
    with sqlite3.connect(feeds / "public_security" / "ga_jzdj.sqlite") as connection:
        [(newest,)] = connection.execute("SELECT max(GXSJ) FROM ga_jzdj").fetchall()
        later = (dt.datetime.fromisoformat(newest) + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        updated = connection.execute("UPDATE ga_jzdj SET LXDH = ?, GXSJ = ? WHERE JZDJBH = ?", (phone, later, source_key)).rowcount
    assert updated == 1, f"no public security row {source_key}"


def json_list(text: str) -> list[str]:
    value: list[str] = json.loads(text)
    return value
