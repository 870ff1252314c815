"""The fused projector-encoder (mmi.exchange.projection) writes, for every event and subscription, exactly the bytes
of the two-pass way (routing.Projector's datum encoded by RecordEncoder) and of fastavro writing that datum; and it
sends nothing where the two-pass way sends nothing. The events are varied on purpose: creates, updates that change
only hidden fields, moves across a border, merges and retires, several lineage sources, own records, dates as
text, values that are not text, a lineage entry of the wrong shape, fields missing from a golden record."""

from __future__ import annotations

import io
import random
from typing import Any

import fastavro
import pytest
from sqlalchemy import Engine

from mmi.exchange.changesets import encode_records
from mmi.exchange.outbox import Route, read_events, read_routes
from mmi.exchange.projection import compiled
from mmi.exchange.routing import OutboxEvent, Projector
from mmi.exchange.subscriptions import Subscription
from schemas.changeset import latest_version, parsed_schema, shareable_fields, versions
from schemas.lineage import compact_lineage
from tests.mmi.exchange.outbox import Outbox, golden

FIELDS = shareable_fields()
SUBSCRIPTIONS = [
    Subscription(
        "zhengzhou-health", "health", ("4101",), ("name", "id_number", "birth_date", "sex", "current_district", "residence_start")
    ),
    Subscription(
        "guangdong-police",
        "public_security",
        ("44",),
        ("name", "id_number", "phone", "current_district", "current_address", "permit_number"),
    ),
    Subscription("national", "statistics", ("1", "2", "3", "4", "5", "6"), tuple(FIELDS)),
    Subscription("one-field", "human_resources", ("41", "44"), ("employer",)),
]
DISTRICTS = ["410105", "410122", "440305", "440106", "110105", None]
RECORDS = ["health|H{}", "public_security|P{}", "statistics|S{}", "human_resources|R{}"]


def _person(rng: random.Random) -> dict[str, Any]:
    record = golden(
        name=rng.choice(["张伟", "李娜", "王芳"]) + str(rng.randrange(100)),
        current_district=rng.choice(DISTRICTS),
        phone=rng.choice([None, f"138{rng.randrange(10**8):08d}"]),
        birth_date=rng.choice(["1990-03-07", "2001-12-31", None]),
    )
    if rng.random() < 0.1:
        del record[rng.choice([name for name in FIELDS if name != "current_district"])]  # a field linkage left out
    if rng.random() < 0.05:
        record["residence_start"] = 19_000  # a date as days since 1970, not text: written as it is
    return record


def _lineage(rng: random.Random, number: int) -> dict[str, Any] | str:
    """Half as linkage writes it now (schemas.lineage, format 2), half as stores linked before hold it (format 1,
    with keys the schema does not know and entries of the wrong shape)."""
    if rng.random() < 0.5:
        pointers = [
            (department, f"K{number}-{department}", rng.randint(1, 3), rng.randrange(10**6)) for department in ("health", "statistics")
        ]
        return compact_lineage({name: rng.choice(pointers) if rng.random() < 0.9 else None for name in FIELDS})
    sources = [
        {
            "department": department,
            "source_key": f"K{number}-{department}",
            "version": rng.randint(1, 3),
            "record_id": rng.randrange(10**6),
            "rule": rng.choice(["most recent first", "trust public_security"]),
            "extra": "ignored",
        }
        for department in ("public_security", "health", "statistics")
    ]
    lineage: dict[str, Any] = {name: rng.choice(sources) for name in FIELDS if rng.random() < 0.9}
    if rng.random() < 0.1:
        lineage["phone"] = "not a source"  # the wrong shape: the lineage is decoded leniently, the entry left out
    if rng.random() < 0.05:
        lineage["employer"] = None
    return lineage


def _add_events(outbox: Outbox, count: int, rng: random.Random) -> None:
    people: dict[str, dict[str, Any]] = {}
    for number in range(count):
        master_id = f"M{rng.randrange(count // 3 + 1)}"
        before = people.get(master_id)
        roll = rng.random()
        if before is None:
            operation, after = "create", _person(rng)
        elif roll < 0.6:
            operation = "update"
            after = before | rng.choice(
                [
                    {"current_district": rng.choice(DISTRICTS)},
                    {"employer": f"E{number}"},
                    {"phone": f"139{number:08d}"},
                    {"residence_start": "2025-01-02"},
                    {},
                ]
            )
        else:
            operation, after = rng.choice([("merge", _person(rng)), ("retire", None), ("split", _person(rng))])
        keys = [pattern.format(number) for pattern in rng.sample(RECORDS, rng.randint(0, 3))]
        outbox.add(
            operation,
            master_id,
            before=before,
            after=after,
            records_before=keys if before else [],
            records_after=rng.sample(keys, len(keys)) if after else [],
            related=[f"M{number + 1}"] if operation != "create" else [],
            lineage=_lineage(rng, number) if after else "{}",
        )
        if after is None:
            people.pop(master_id, None)
        else:
            people[master_id] = after


def _events(store: Engine) -> list[OutboxEvent]:
    with store.connect() as connection:
        _late, new = read_routes(connection, 0, False, 10_000)
        return read_events(connection, [Route(route.seq, route.district_before, route.district_after) for route in new])


def _fastavro(datum: dict[str, Any], subscription: Subscription) -> bytes:
    hidden = {name: None for name in FIELDS if name not in subscription.fields}
    shown = datum | {side: datum[side] | hidden if datum[side] is not None else None for side in ("person_before", "person_after")}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed_schema(latest_version()), shown)
    return buffer.getvalue()


def test_the_fused_encoder_writes_the_bytes_of_the_two_pass_way_and_of_fastavro(store: Engine) -> None:
    _add_events(Outbox(store), 300, random.Random(7))
    sent = 0
    for subscription in SUBSCRIPTIONS:
        deliver = compiled(latest_version(), subscription)
        assert deliver is not None
        for event in _events(store):  # fresh events: nothing decoded yet, by either way
            datum = Projector(subscription)(event)
            fused = deliver(event)
            if datum is None:
                assert fused is None, (subscription.name, event.seq)
                continue
            [(seq, two_pass)] = encode_records(subscription, [datum])
            assert seq == event.seq and fused == two_pass == _fastavro(datum, subscription), (subscription.name, event.seq)
            sent += 1
    assert sent > 300  # most events reach someone; some are not sent (hidden-only updates, other places)


def test_the_fused_way_is_taken_only_for_the_layout_it_was_written_for() -> None:
    subscription = SUBSCRIPTIONS[0]
    assert compiled(latest_version(), subscription) is not None
    older = [version for version in versions() if version != latest_version()]
    # v1 has no jurisdiction_change: its records are left to the two-pass encoder, which handles any layout.
    assert all(compiled(version, subscription) is None for version in older)


def _raised(call: Any) -> type[BaseException]:
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the point is which error the two-pass way raises
        return type(error)
    raise AssertionError("it did not raise")


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_a_golden_record_that_is_no_object_fails_as_in_the_two_pass_way(store: Engine, text: str) -> None:
    Outbox(store).add("create", "M1", after=golden())
    [event] = _events(store)
    row = dict(event.row) | {"golden_after": text}
    deliver = compiled(latest_version(), SUBSCRIPTIONS[0])
    assert deliver is not None
    expected = _raised(lambda: Projector(SUBSCRIPTIONS[0])(OutboxEvent(row, None, "410105")))
    assert _raised(lambda: deliver(OutboxEvent(row, None, "410105"))) is expected
