"""Provenance over real HTTP, on SQLite and PostgreSQL, over a generated index that was linked, published, had a
change set downloaded and two masters merged (tests/mmi/api/audited.py): every golden value traces to source bytes
whose SHA-256 is the recorded one; `as_of` before the merge shows both masters as they were; disclosures list
every subscriber that received a master's events, with the download; roles and bad parameters; every read is
recorded, ID numbers only hashed, and the log still verifies."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import Connection, select

from mmi import provenance
from mmi.audit.checkpoints import audit_settings, trusted_verifier
from mmi.audit.read_terms import read_terms_key
from mmi.audit.verify import verify_store
from mmi.principal import Principal
from mmi.store.audit_tables import audit_leaf, audit_read
from mmi.store.database import alembic_config, create_store_engine
from mmi.store.exchange_tables import changeset, changeset_event
from mmi.store.index_tables import master_event, master_held_record, master_record
from tests.mmi.api.audited import Audited, audited_index
from tests.mmi.api.tokens import claims, signed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[Audited]:
    with audited_index(tmp_path_factory.mktemp(f"provenance-{request.param}"), request.param, postgres_problem) as index:
        yield index


def _iso(audited: Audited) -> str:
    return audited.before_merge.isoformat().replace("+00:00", "Z")


def test_every_golden_value_traces_to_source_bytes_with_the_recorded_checksum(audited: Audited) -> None:
    with audited.served.engine.connect() as connection:
        masters = sorted(connection.execute(select(master_record.c.master_id).where(master_record.c.status == "active")).scalars())
        logged = {
            (entry["key"][0], entry["key"][1], entry["key"][2]): entry["payload_sha256"]
            for entry in map(
                json.loads, connection.execute(select(audit_leaf.c.entry).where(audit_leaf.c.kind == "source_version")).scalars()
            )
        }
    checked = 0
    for master_id in random.Random(12).sample(masters, 8):
        view = audited.get(f"/v1/masters/{master_id}")
        assert view.status_code == 200, view.text
        body = view.json()
        assert body["master_id"] == master_id and body["status"] == "active"
        assert body["records"] and all(record["since"] for record in body["records"])
        assert body["events"][0]["operation"] == "create" and body["events"][0]["model_sha256"]
        for name, golden in body["fields"].items():
            if golden["value"] is None:
                continue
            source = golden["source"]
            assert source["rule"] and source["location"] and source["batch_id"], (master_id, name)
            version = audited.get(f"/v1/records/{source['department']}/{source['source_key']}/versions/{source['version']}")
            assert version.status_code == 200, version.text
            record = version.json()
            payload = base64.b64decode(record["payload_base64"])
            assert hashlib.sha256(payload).hexdigest() == source["payload_sha256"] == record["payload_sha256"], (master_id, name)
            # and the log holds the same checksum for that version, logged at ingest
            assert logged[(source["department"], source["source_key"], source["version"])] == source["payload_sha256"]
            assert record["location"] == source["location"] and record["batch"]["id"] == source["batch_id"]
            assert json.loads(payload.decode("utf-8")), "the raw payload is the department's row as JSON text"
            checked += 1
    assert checked > 8 * 5


def test_as_of_before_the_merge_shows_both_masters_as_they_were(audited: Audited) -> None:
    now_survivor = audited.get(f"/v1/masters/{audited.survivor}").json()
    now_retired = audited.get(f"/v1/masters/{audited.retired}").json()
    assert now_retired["status"] == "retired" and now_retired["successor_id"] == audited.survivor
    assert [event["operation"] for event in now_retired["events"]][-1] == "retire"
    merged = {record["record_key"] for record in now_survivor["records"]}
    assert set(audited.survivor_records) | set(audited.retired_records) <= merged
    assert any(decision["kind"] == "must_link" and decision["status"] == "applied" for decision in now_survivor["decisions"])

    for master_id, records in ((audited.survivor, audited.survivor_records), (audited.retired, audited.retired_records)):
        then = audited.get(f"/v1/masters/{master_id}", params={"as_of": _iso(audited)}).json()
        assert then["status"] == "active" and then["successor_id"] is None, then
        assert [record["record_key"] for record in then["records"]] == sorted(records)
        assert all(event["operation"] != "retire" and event["operation"] != "merge" for event in then["events"])
        assert not any(decision["kind"] == "must_link" for decision in then["decisions"]), "the must-link came after"
        assert then["fields"]["name"]["value"] is not None and then["fields"]["name"]["source"]["payload_sha256"]
    long_ago = audited.get(f"/v1/masters/{audited.survivor}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert long_ago.status_code == 404 and "did not exist" in long_ago.json()["detail"]


def _master_in_downloaded_changeset(audited: Audited) -> str:
    subscriber, seq = audited.downloaded
    with audited.served.engine.connect() as connection:
        outbox_seq = connection.execute(
            select(changeset_event.c.outbox_seq)
            .where(changeset_event.c.subscriber == subscriber, changeset_event.c.changeset_seq == seq)
            .limit(1)
        ).scalar_one()
        return str(connection.execute(select(master_event.c.master_id).where(master_event.c.seq == outbox_seq)).scalar_one())


def test_disclosures_list_each_subscriber_that_received_the_masters_events_with_downloads(audited: Audited) -> None:
    subscriber, seq = audited.downloaded
    master_id = _master_in_downloaded_changeset(audited)
    with audited.served.engine.connect() as connection:
        received = set(
            connection.execute(
                select(changeset_event.c.subscriber).where(
                    changeset_event.c.outbox_seq.in_(select(master_event.c.seq).where(master_event.c.master_id == master_id))
                )
            ).scalars()
        )
    response = audited.get("/v1/disclosures", params={"master_id": master_id})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {item["subscriber"] for item in items} == received and len(received) >= 2
    subscriptions = audited.served.settings.exchange.subscriptions  # type: ignore[union-attr]
    for item in items:
        assert item["fields"] == list(subscriptions[item["subscriber"]].fields) and item["published_at"]
        assert item["fields_from"] == "changeset"
    downloaded = [item for item in items if item["subscriber"] == subscriber and item["seq"] == seq]
    assert downloaded and downloaded[0]["downloads"][0]["by"] == subscriber
    assert all(not item["downloads"] for item in items if item["subscriber"] != subscriber)

    master = audited.get(f"/v1/masters/{master_id}").json()
    assert {delivery["subscriber"] for delivery in master["deliveries"]} == received
    department, _, source_key = master["records"][0]["record_key"].partition("|")
    by_record = audited.get("/v1/disclosures", params={"department": department, "source_key": source_key}).json()
    assert master_id in by_record["masters"] and {item["subscriber"] for item in by_record["items"]} >= received
    id_number = master["fields"]["id_number"]["value"]
    if id_number:
        by_id = audited.get("/v1/disclosures", params={"id_number": id_number}).json()
        assert master_id in by_id["masters"]


def test_disclosures_name_the_fields_the_files_carried_even_after_the_subscription_changed(audited: Audited, tmp_path: Path) -> None:
    """A subscription narrowed after its deliveries does not rewrite what was disclosed: the fields come from each
    change set's own header. Where a file is no longer the one published, the present subscription stands in, saying so."""
    exchange = audited.served.settings.exchange
    assert exchange is not None
    narrowed = {name: dataclasses.replace(sub, fields=sub.fields[:1]) for name, sub in exchange.subscriptions.items()}
    folder = tmp_path / "changesets"
    shutil.copytree(exchange.out_dir, folder)  # a copy: the module's other tests read the real files
    auditor = Principal("audit.qian", "auditor")
    key = read_terms_key(audit_settings(audited.served.settings).read_terms_key)
    master_id = _master_in_downloaded_changeset(audited)

    found = provenance.disclosures(audited.served.engine, auditor, narrowed, folder, key, master_id=master_id)
    assert found.items
    for item in found.items:
        assert item.fields_from == "changeset" and item.fields == list(exchange.subscriptions[item.subscriber].fields)
        assert item.fields != list(narrowed[item.subscriber].fields)

    subscriber, seq = audited.downloaded
    with audited.served.engine.connect() as connection:
        file_name = connection.execute(
            select(changeset.c.file_name).where(changeset.c.subscriber == subscriber, changeset.c.seq == seq)
        ).scalar_one()
    altered = bytearray((folder / file_name).read_bytes())
    altered[-1] ^= 0x01
    (folder / file_name).write_bytes(bytes(altered))
    found = provenance.disclosures(audited.served.engine, auditor, narrowed, folder, key, master_id=master_id)
    for item in found.items:
        if (item.subscriber, item.seq) == (subscriber, seq):
            assert item.fields_from == "subscription" and item.fields == list(narrowed[subscriber].fields)
        else:
            assert item.fields_from == "changeset"
    assert (subscriber, seq) in {(item.subscriber, item.seq) for item in found.items}


def _held_by_events(connection: Connection) -> set[tuple[str, str]]:
    """(record key, master) for every record any event of a master lists, before or after."""
    pairs: set[tuple[str, str]] = set()
    query = select(master_event.c.master_id, master_event.c.records_before, master_event.c.records_after)
    for master_id, before, after in connection.execute(query):
        pairs |= {(key, master_id) for key in json.loads(before) + json.loads(after)}
    return pairs


def _held(connection: Connection) -> set[tuple[str, str]]:
    return {(key, master) for key, master in connection.execute(select(master_held_record.c.record_key, master_held_record.c.master_id))}


def test_the_record_to_masters_table_holds_exactly_what_the_events_say(audited: Audited) -> None:
    with audited.served.engine.connect() as connection:
        held = _held(connection)
        assert held == _held_by_events(connection)
    assert set(audited.retired_records) <= {key for key, master in held if master == audited.retired}  # merged away, still there


def test_migration_0014_builds_the_record_to_masters_table_from_the_events(audited: Audited, tmp_path: Path) -> None:
    if audited.served.engine.dialect.name != "sqlite":
        pytest.skip("rebuilt on a copy of the SQLite store's file (the PostgreSQL store is shared by this module's tests)")
    copy = tmp_path / "store.db"
    source = sqlite3.connect(audited.served.engine.url.database or "")
    with contextlib.closing(source), contextlib.closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    engine = create_store_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            expected = _held(connection)
        command.downgrade(alembic_config(engine), "0013")
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as connection:
            assert _held(connection) == expected and expected
    finally:
        engine.dispose()


def test_roles_unknowns_and_bad_parameters(audited: Audited) -> None:
    master = f"/v1/masters/{audited.survivor}"
    assert audited.get(master, role="admin").status_code == 200
    for role, subject in (("subscriber", "zhengzhou-health"), ("steward", "li.steward")):
        for path in (
            master,
            "/v1/records/public_security/X/versions/1",
            f"/v1/disclosures?master_id={audited.survivor}",
            "/v1/audit/reads",
        ):
            assert audited.get(path, role=role, subject=subject).status_code == 403, (role, path)
    assert audited.get(master, role=None).status_code == 401
    assert audited.get("/v1/masters/M999999999").status_code == 404
    assert audited.get("/v1/records/public_security/NOPE/versions/1").status_code == 404
    assert audited.get("/v1/disclosures?master_id=M999999999").status_code == 404
    for path in (
        f"{master}?as_of=yesterday",
        f"{master}?as_of=0001-01-01T00:00:00%2B05:00",
        "/v1/masters/" + "M" * 40,
        "/v1/records/public_security/X/versions/0",
        "/v1/records/public_security/X/versions/99999999999999999999",
        "/v1/records/public_security/X/versions/abc",
        "/v1/disclosures",
        f"/v1/disclosures?master_id={audited.survivor}&id_number=110101199003077777",
        "/v1/disclosures?department=public_security",
        "/v1/disclosures?id_number=12345",
        "/v1/search?kind=name&q=" + "张" * 101,
        "/v1/search?kind=phone&q=1",
        "/v1/search?kind=record_key&q=nobar",
        "/v1/audit/reads?limit=100000",
    ):
        response = audited.get(path)
        assert response.status_code == 422, (path, response.status_code, response.text)


def test_reads_are_recorded_with_search_terms_hashed_and_the_log_still_verifies(audited: Audited) -> None:
    master = audited.get(f"/v1/masters/{audited.survivor}", subject="audit.zhao").json()
    id_number, name = master["fields"]["id_number"]["value"], master["fields"]["name"]["value"]
    assert id_number is None or len(id_number) == 18
    number = id_number or "110101199003077777"
    found = audited.get("/v1/search", params={"kind": "id_number", "q": number}, subject="audit.zhao").json()
    assert (audited.survivor in [hit["master_id"] for hit in found["hits"]]) == (id_number is not None)
    by_name = audited.get("/v1/search", params={"kind": "name", "q": name}, subject="audit.zhao").json()
    assert audited.survivor in [hit["master_id"] for hit in by_name["hits"]]

    reads = audited.get("/v1/audit/reads?limit=10").json()["items"]
    mine = [read for read in reads if read["subject"] == "audit.zhao"]
    assert [read["what"] for read in mine[:3]] == ["search", "search", "master"]
    assert mine[2]["target"] == audited.survivor and mine[2]["channel"] == "api"
    # Kept keyed-hashed under the deployment's read-terms key: not the plain SHA-256 anyone could enumerate ID numbers for.
    key = read_terms_key(audit_settings(audited.served.settings).read_terms_key)
    assert mine[1]["query_kind"] == "id_number" and mine[1]["query_sha256"] == hmac.new(key, number.encode(), "sha256").hexdigest()
    assert mine[0]["query_sha256"] == hmac.new(key, name.encode(), "sha256").hexdigest()
    assert mine[1]["query_sha256"] != hashlib.sha256(number.encode()).hexdigest()
    with audited.served.engine.connect() as connection:
        stored = json.dumps([list(map(str, row)) for row in connection.execute(select(audit_read))], ensure_ascii=False)
        leaves = connection.execute(select(audit_leaf.c.entry).where(audit_leaf.c.kind == "audit_read")).scalars().all()
    assert number not in stored and name not in stored, "an ID number or name searched for is kept only hashed"
    assert len(leaves) >= 3 and all(number not in leaf for leaf in leaves)
    settings = audited.served.index_settings  # the index's own log key and change-set folder
    assert settings is not None and settings.exchange is not None
    report = verify_store(audited.served.engine, trusted_verifier(audit_settings(settings)), settings.exchange.out_dir)
    assert report.intact, report.problems[:3]
    assert report.rows_checked >= len(leaves)


def test_a_master_outside_the_auditors_jurisdiction_is_not_found(audited: Audited) -> None:
    with audited.served.engine.connect() as connection:
        district = connection.execute(
            select(master_record.c.current_district).where(master_record.c.master_id == audited.survivor)
        ).scalar_one()
    assert district
    elsewhere = "9" if not district.startswith("9") else "8"
    token = signed(audited.served.api, claims(audited.served.api, role="auditor", subject="audit.local", jurisdiction=[elsewhere]))
    response = httpx.get(
        f"{audited.served.base_url}/v1/masters/{audited.survivor}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 404
    token = signed(audited.served.api, claims(audited.served.api, role="auditor", subject="audit.local", jurisdiction=[district[:2]]))
    response = httpx.get(
        f"{audited.served.base_url}/v1/masters/{audited.survivor}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200
