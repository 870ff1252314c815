"""Publishing the outbox as change sets: routing, projection, numbering, identical bytes, late commits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from mmi.exchange import exchange_settings, publish
from mmi.exchange.workers import PARALLEL_MIN_EVENTS, EncodingPool
from mmi.store.database import open_store
from mmi.store.exchange_tables import changeset_event, exchange_gap
from mmi.store.index_tables import linkage_run, master_event, model_version
from schemas.changeset import latest_version, schema_fingerprint
from schemas.golden import CURRENT_RULE_SET, RULE_SETS
from tests.mmi.exchange.outbox import Outbox, exchange_config, golden
from tests.mmi.exchange.readers import delivered_events, published, read_apache_avro, read_fastavro

ZHENGZHOU, SHENZHEN, BEIJING = "410105", "440305", "110105"


def add_story(outbox: Outbox) -> None:
    """Six events: one person moves from Zhengzhou to Shenzhen, one lives in Beijing, a merge, a retire."""
    outbox.add("create", "M1", after=golden(), records_after=["health|H1", "public_security|P1"])
    outbox.add("create", "M2", after=golden(name="李娜", current_district=SHENZHEN))
    outbox.add("create", "M3", after=golden(name="王芳", current_district=BEIJING))
    outbox.add(
        "update",
        "M1",
        before=golden(),
        after=golden(current_district=SHENZHEN, current_address="南山区1号"),
        records_before=["health|H1", "public_security|P1"],
        records_after=["health|H1", "public_security|P1"],
    )
    outbox.add("merge", "M4", before=golden(name="赵敏"), after=golden(name="赵敏", phone="13900002222"), related=["M5"])
    outbox.add("retire", "M2", before=golden(name="李娜", current_district=SHENZHEN), related=["M1"])


def test_each_subscriber_gets_the_events_of_its_jurisdiction_with_only_its_fields(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    add_story(Outbox(store))
    report = publish(settings, store)
    out_dir = exchange_settings(settings).out_dir
    assert report.events_read == 6 and report.changesets == {"guangdong-police": [1], "zhengzhou-health": [1]}

    health = delivered_events(store, out_dir, "zhengzhou-health")
    police = delivered_events(store, out_dir, "guangdong-police")
    assert [(e["operation"], e["master_id"], e["jurisdiction_change"]) for e in health] == [
        ("create", "M1", None),
        ("update", "M1", "moved_out"),
        ("merge", "M4", None),
    ]
    assert [(e["operation"], e["master_id"], e["jurisdiction_change"]) for e in police] == [
        ("create", "M2", None),
        ("update", "M1", "moved_in"),
        ("retire", "M2", None),
    ]

    create, move, merge = health
    listed = {"name", "id_number", "birth_date", "sex", "current_district", "residence_start"}
    assert create["person_before"] is None
    assert {k for k, v in create["person_after"].items() if v is not None} == listed
    assert create["person_after"]["birth_date"] == dt.date(1990, 3, 7)
    assert create["own_records_after"] == ["H1"]  # its own department's key only
    assert [field for source in create["lineage"] for field in source["fields"]] == [
        "name",
        "id_number",
        "birth_date",
        "sex",
        "current_district",
        "residence_start",
    ]
    # one source, four survivorship rules among these fields: an entry per source and rule, with the rule's text
    assert [source["fields"] for source in create["lineage"]] == [
        ["name"],
        ["id_number", "birth_date", "sex"],
        ["current_district"],
        ["residence_start"],
    ]
    assert {source["source_key"] for source in create["lineage"]} == {"GA-M1"}
    assert create["lineage"][1]["rule"] == RULE_SETS[CURRENT_RULE_SET]["id_number"]
    assert move["changed_fields"] == ["current_district"]  # the address changed too, but health may not see it
    assert merge["related_ids"] == ["M5"] and merge["changed_fields"] == []  # only the phone changed: not its business, but a merge is
    assert police[2]["person_after"] is None and police[2]["related_ids"] == ["M1"]
    assert police[1]["own_records_after"] == ["P1"] and police[1]["changed_fields"] == ["current_district", "current_address"]


def test_change_sets_read_the_same_with_fastavro_and_apache_avro(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url, max_events=2)
    add_story(Outbox(store))
    publish(settings, store)
    files = published(store, exchange_settings(settings).out_dir, "zhengzhou-health")
    assert [row["seq"] for row, _ in files] == [1, 2]  # three events, two a file
    for row, content in files:
        metadata, records = read_fastavro(content)
        apache_metadata, apache_records = read_apache_avro(content)
        assert metadata["mmi.subscriber"] == apache_metadata["mmi.subscriber"] == "zhengzhou-health"
        assert int(metadata["mmi.sequence"]) == row["seq"] and int(metadata["mmi.count"]) == row["events"] == len(records)
        assert metadata["mmi.schema_fingerprint"] == row["schema_fingerprint"] == schema_fingerprint(latest_version())
        assert apache_metadata == {key: value for key, value in metadata.items() if key.startswith("mmi.")}
        assert [r["event_id"] for r in apache_records] == [str(r["event_id"]) for r in records]
        assert [r["person_after"] for r in apache_records] == [r["person_after"] for r in records]
        assert [r["occurred_at"] for r in apache_records] == [r["occurred_at"] for r in records]


def test_the_same_events_give_the_same_bytes(store: Engine, store_url: str, tmp_path: Path) -> None:
    """A second store holding the same outbox rows publishes byte-identical files, so files can be hashed and audited."""
    first = exchange_config(tmp_path / "a", store_url)
    add_story(Outbox(store))
    publish(first, store)
    second_url = f"sqlite:///{tmp_path / 'b' / 'mmi.db'}"
    second = copy_outbox(store, second_url)
    publish(exchange_config(tmp_path / "b", second_url), second)
    for subscriber in ("zhengzhou-health", "guangdong-police"):
        made_first = published(store, exchange_settings(first).out_dir, subscriber)
        made_second = published(second, tmp_path / "b" / "changesets", subscriber)
        assert [content for _, content in made_first] == [content for _, content in made_second]
        assert [row["file_name"] for row, _ in made_first] == [row["file_name"] for row, _ in made_second]
    second.dispose()


def copy_outbox(source: Engine, target_url: str) -> Engine:
    """A new store holding the same outbox rows (same IDs, numbers and times)."""
    target = open_store(target_url)
    with source.connect() as reading, target.begin() as writing:
        for table in (model_version, linkage_run, master_event):
            writing.execute(insert(table), [dict(row._mapping) for row in reading.execute(select(table))])
    return target


@pytest.mark.slow
def test_worker_processes_make_the_same_bytes(store: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch large enough for the worker processes gives exactly the files one process gives."""
    outbox = Outbox(store)
    with store.begin() as connection:
        for number in range(PARALLEL_MIN_EVENTS + 500):
            district = "110105" if number % 10 == 0 else ("410105", "440305")[number % 2]
            outbox.add("create", f"M{number}", after=golden(name=f"人{number}", current_district=district), connection=connection)
    runs: list[int] = []
    encode = EncodingPool.encode
    monkeypatch.setattr(
        EncodingPool, "encode", lambda pool, routes, subscriptions: runs.append(len(routes)) or encode(pool, routes, subscriptions)
    )
    parallel = exchange_config(tmp_path / "parallel", store_url, workers=2, max_events=1000)
    assert publish(parallel, store).events_read == PARALLEL_MIN_EVENTS + 500
    assert runs == [4050]  # the batch went to the workers
    serial_url = f"sqlite:///{tmp_path / 'serial' / 'mmi.db'}"
    serial_store = copy_outbox(store, serial_url)
    publish(exchange_config(tmp_path / "serial", serial_url, max_events=1000), serial_store)
    for subscriber in ("zhengzhou-health", "guangdong-police"):
        made = published(store, tmp_path / "parallel" / "changesets", subscriber)
        assert len(made) >= 2 and [content for _, content in made] == [
            c for _, c in published(serial_store, tmp_path / "serial" / "changesets", subscriber)
        ]
    serial_store.dispose()


def test_publishing_again_repeats_nothing_and_numbers_on(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    outbox = Outbox(store)
    add_story(outbox)
    publish(settings, store)
    again = publish(settings, store)
    assert again.events_read == 0 and again.changesets == {}
    outbox.add("update", "M4", before=golden(name="赵敏"), after=golden(name="赵敏", sex="2"))
    later = publish(settings, store)
    assert later.changesets == {"zhengzhou-health": [2]}
    events = delivered_events(store, exchange_settings(settings).out_dir, "zhengzhou-health")
    assert len({e["event_id"] for e in events}) == len(events) == 4


def test_an_event_committed_late_with_a_lower_number_is_not_skipped(store: Engine, store_url: str, tmp_path: Path) -> None:
    """Numbers 3 and 4 are missing when the publisher reads 5; they arrive later, one by one, and are published."""
    settings = exchange_config(tmp_path, store_url)
    outbox = Outbox(store)
    for seq in (1, 2, 5):
        outbox.add("create", f"M{seq}", after=golden(name=f"人{seq}"), seq=seq)
    assert publish(settings, store).open_gaps == 2
    outbox.add("create", "M4", after=golden(name="人4"), seq=4)
    assert publish(settings, store).open_gaps == 1
    outbox.add("create", "M3", after=golden(name="人3"), seq=3)
    final = publish(settings, store)
    assert final.open_gaps == 0 and final.floor == 5
    events = delivered_events(store, exchange_settings(settings).out_dir, "zhengzhou-health")
    assert [e["outbox_seq"] for e in events] == [1, 2, 5, 4, 3]
    with store.connect() as connection:
        assert connection.execute(select(exchange_gap)).all() == []
        assert sorted(connection.execute(select(changeset_event.c.outbox_seq)).scalars()) == [1, 2, 3, 4, 5]


@pytest.mark.postgres
def test_a_transaction_committing_after_a_later_one_is_published(postgres_schema_url: str, tmp_path: Path) -> None:
    """Real PostgreSQL: transaction A takes its number first but commits after B; A's event still goes out."""
    engine = open_store(postgres_schema_url)
    settings = exchange_config(tmp_path, postgres_schema_url)
    outbox = Outbox(engine)
    with engine.connect() as slow:
        slow.begin()
        early = outbox.add("create", "EARLY", after=golden(name="早"), connection=slow)
        late = outbox.add("create", "LATE", after=golden(name="晚"))
        assert early["seq"] < late["seq"]
        assert publish(settings, engine).events_read == 1
        slow.commit()
    assert publish(settings, engine).events_read == 1
    events = delivered_events(engine, exchange_settings(settings).out_dir, "zhengzhou-health")
    assert [e["master_id"] for e in events] == ["LATE", "EARLY"]
    engine.dispose()


def test_an_update_the_subscriber_cannot_see_is_not_sent(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    outbox = Outbox(store)
    outbox.add("update", "M1", before=golden(), after=golden(phone="13311112222", employer="别的公司"))  # nothing health sees
    outbox.add("update", "M1", before=golden(), after=golden(), records_before=["health|H1"], records_after=["health|H1", "health|H2"])
    publish(settings, store)
    events = delivered_events(store, exchange_settings(settings).out_dir, "zhengzhou-health")
    assert [(e["own_records_before"], e["own_records_after"]) for e in events] == [(["H1"], ["H1", "H2"])]


def test_a_file_left_by_a_crash_is_replaced_and_removed(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    out_dir = exchange_settings(settings).out_dir
    leftover = out_dir / "zhengzhou-health" / "00000001-000000000000.avro"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"written before a crash, never recorded")
    add_story(Outbox(store))
    report = publish(settings, store)
    assert report.stale_files_removed == 1 and not leftover.exists()
    assert [row["seq"] for row, _ in published(store, out_dir, "zhengzhou-health")] == [1]
