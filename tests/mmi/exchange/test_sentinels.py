"""Sentinels: values planted in everything a subscriber may not see must not be anywhere in its change sets.

Each sentinel is a unique string, planted in a golden field the subscriber does not list (before and after), in
the lineage of such a field, in another department's record key, and in an update that changes only such fields.
The files are searched raw and inflated. As a control, the same search finds the sentinels a second subscriber
*may* see in that subscriber's files, so a search that finds nothing is not a search that cannot find.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from mmi.exchange import exchange_settings, publish
from tests.mmi.exchange.outbox import FIELDS, SUBSCRIBERS, Outbox, exchange_config, golden
from tests.mmi.exchange.readers import decompressed, published, read_apache_avro

HEALTH = set(SUBSCRIBERS["zhengzhou-health"]["fields"])
POLICE = set(SUBSCRIBERS["guangdong-police"]["fields"])


def sentinel(field: str, where: str) -> str:
    return f"SENTINEL~{field}~{where}~7f3a"


def planted(where: str, district: str) -> dict[str, str]:
    """A golden record with a sentinel in every field but the ones routing and a dated field need."""
    record = golden(current_district=district)
    for field in FIELDS:
        if field not in ("current_district", "birth_date", "residence_start"):
            record[field] = sentinel(field, where)
    return record


def test_no_field_a_subscriber_may_not_see_reaches_its_bytes(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    outbox = Outbox(store)
    before, after = planted("before", "410105"), planted("after", "440305")  # moves from Zhengzhou to Shenzhen
    lineage = {
        field: {"department": "statistics", "source_key": sentinel(field, "lineage"), "version": 1, "record_id": 3, "rule": "r"}
        for field in FIELDS
    }
    records = ["health|own-record", f"statistics|{sentinel('record', 'statistics')}", f"human_resources|{sentinel('record', 'hr')}"]
    outbox.add("create", "M1", after=before, records_after=records, lineage=lineage)
    outbox.add("update", "M1", before=before, after=after, records_before=records, records_after=records, lineage=lineage)
    hidden_change = after | {
        "employer": sentinel("employer", "hidden-update"),
        "health_record_no": sentinel("health_record_no", "hidden-update"),
    }
    outbox.add("update", "M1", before=after, after=hidden_change, records_before=records, records_after=records, lineage=lineage)
    publish(settings, store)
    out_dir = exchange_settings(settings).out_dir

    health = _contents(store, out_dir, "zhengzhou-health")
    police = _contents(store, out_dir, "guangdong-police")
    for field in FIELDS:
        for where in ("before", "after", "lineage", "hidden-update"):
            value = sentinel(field, where).encode()
            if field not in HEALTH:
                assert value not in health, f"{field} ({where}) leaked to zhengzhou-health"
            if field not in POLICE:
                assert value not in police, f"{field} ({where}) leaked to guangdong-police"
    for other in (sentinel("record", "statistics"), sentinel("record", "hr")):
        assert other.encode() not in health and other.encode() not in police

    # The control: what each may see is found by the same search.
    assert sentinel("name", "before").encode() in health and sentinel("name", "lineage").encode() in health
    assert sentinel("phone", "after").encode() in police and sentinel("permit_number", "lineage").encode() in police
    assert b"own-record" in health


def test_hidden_fields_read_as_null_with_both_libraries(store: Engine, store_url: str, tmp_path: Path) -> None:
    settings = exchange_config(tmp_path, store_url)
    Outbox(store).add("create", "M1", after=planted("after", "410105"))
    publish(settings, store)
    [(_row, content)] = published(store, exchange_settings(settings).out_dir, "zhengzhou-health")
    [record] = read_apache_avro(content)[1]
    person = record["person_after"]
    assert {field for field, value in person.items() if value is not None} == HEALTH
    assert {field for source in record["lineage"] for field in source["fields"]} == HEALTH


def _contents(engine: Engine, out_dir: Path, subscriber: str) -> bytes:
    """All of a subscriber's files, raw and inflated, as one haystack."""
    files = published(engine, out_dir, subscriber)
    assert files, f"{subscriber} received nothing: the test would prove nothing"
    return b"\n".join(content + b"\n" + decompressed(content) for _row, content in files)
