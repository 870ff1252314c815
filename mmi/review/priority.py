"""An item's priority: how much harm a wrong answer does, times how uncertain the answer is.

Harm grows with what the masters involved already carry into the world: a conflict or a master holding two
valid ID numbers starts highest (the design's sign of two people in one file), each subscriber a master was
delivered to multiplies it (their systems hold the ID), and the service records behind it add to it, a child's
vaccinations most (a wrong merge sends one child's vaccinations to another's file). Uncertainty is the model's
own: for a review-band pair the binary entropy of its probability, for a conflict the probability the rule
overrode, for a cluster how close its bottleneck link sits to the threshold or how sparse it is. Each factor is
kept with a sentence, so the page says why an item sits where it does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator

from sqlalchemy import ColumnElement, Connection, FromClause, select

from mmi.review.candidates import Candidate, IndexView
from mmi.review.lookups import by_department, masters_of
from mmi.review.models import PriorityFactor
from mmi.store.exchange_tables import changeset, changeset_event, exchange_batch
from mmi.store.index_tables import master_event
from mmi.store.reads import key_in
from mmi.store.tables import service_event

KIND_WEIGHT = {"conflict": 3.0, "invalidated": 2.5, "cluster": 2.0, "pair": 1.0}
IDENTITY_WEIGHT = 3.0  # a cluster with two valid ID numbers weighs as a conflict
SERVICE_WEIGHT, SERVICE_CAP = 0.1, 1.0
CHILD_VACCINATION_WEIGHT, CHILD_YEARS = 1.0, 7


def delivered_to(connection: Connection, masters: Iterable[str]) -> dict[str, set[str]]:
    """Master ID → subscribers that received an event about it (their systems hold the ID)."""
    reached: dict[str, set[str]] = defaultdict(set)
    if not (subscribers := _subscribers(connection)):
        return reached  # nothing published yet
    master_of = _events_of(connection, set(masters))
    for seq, subscriber in _deliveries(connection, subscribers, master_of):
        reached[master_of[seq]].add(subscriber)
    return reached


def delivered_since(connection: Connection, since: dt.datetime, records: Collection[str]) -> set[str]:
    """Of `records` (record keys), those whose master had an event published after `since` (their items' harm grew).

    Driven from the records, by key at each step: their masters, the masters' events, which of those events went
    out in a batch published since. The day after a first publication every master was delivered since, and
    starting from the publications read every delivery and the whole cross-reference to keep a few thousand."""
    if not (subscribers := _subscribers(connection)):
        return set()
    master_of_record = masters_of(connection, records)
    master_of_event = _events_of(connection, set(master_of_record.values()))
    delivered = {master_of_event[seq] for seq, _subscriber in _deliveries(connection, subscribers, master_of_event, published_after=since)}
    return {key for key, master in master_of_record.items() if master in delivered}


def _events_of(connection: Connection, masters: Collection[str]) -> dict[int, str]:
    """Outbox event number → master, for every event about `masters`."""
    query = select(master_event.c.seq, master_event.c.master_id).where(key_in(connection, master_event.c.master_id, masters))
    return {seq: master for seq, master in connection.execute(query)}


def _subscribers(connection: Connection) -> list[str]:
    """The subscribers that have change sets."""
    return sorted(connection.execute(select(changeset.c.subscriber).distinct()).scalars())


def _deliveries(
    connection: Connection, subscribers: list[str], events: Collection[int], *, published_after: dt.datetime | None = None
) -> Iterator[tuple[int, str]]:
    """(event number, subscriber) for each delivery of `events`, or only those in batches published after the time.

    The subscribers are named along with the numbers: changeset_event's key is (subscriber, outbox_seq), and with
    both given each delivery is found by its key, where SQLite otherwise walks every delivery."""
    source: FromClause = changeset_event
    where: list[ColumnElement[bool]] = [changeset_event.c.subscriber.in_(subscribers)]
    if published_after is not None:
        source = changeset_event.join(
            changeset, (changeset.c.subscriber == changeset_event.c.subscriber) & (changeset.c.seq == changeset_event.c.changeset_seq)
        ).join(exchange_batch, exchange_batch.c.id == changeset.c.batch_id)
        where.append(exchange_batch.c.published_at > published_after)
    where.append(key_in(connection, changeset_event.c.outbox_seq, events))
    query = select(changeset_event.c.outbox_seq, changeset_event.c.subscriber).select_from(source).where(*where)
    yield from ((seq, subscriber) for seq, subscriber in connection.execute(query))


def services_of(connection: Connection, records: Iterable[str]) -> dict[str, dict[str, int]]:
    """Record key → service type → current service records (services name their person by the same department's key)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department, keys in by_department(set(records)).items():
        query = select(service_event.c.person_key, service_event.c.service_type).where(
            service_event.c.department == department,
            service_event.c.is_current.is_(True),
            key_in(connection, service_event.c.person_key, keys),
        )
        for person, service in connection.execute(query):
            found[f"{department}|{person}"][service] += 1
    return found


def prioritise(
    candidate: Candidate, view: IndexView, reached: dict[str, set[str]], services: dict[str, dict[str, int]], today: dt.date
) -> tuple[float, list[PriorityFactor]]:
    """(priority, the factors it is the product of)."""
    factors = [_kind_factor(candidate)]
    subscribers = sorted(set().union(*(reached.get(master, set()) for master in candidate.masters)))
    factors.append(
        PriorityFactor(
            name="subscribers",
            value=1.0 + len(subscribers),
            note=f"delivered to {len(subscribers)} subscriber(s){': ' + ', '.join(subscribers) if subscribers else ''}",
        )
    )
    factors.append(_service_factor(_people_records(candidate, view), view, services, today))
    factors.append(_uncertainty(candidate, view))
    return round(math.prod(factor.value for factor in factors), 6), factors


def _kind_factor(candidate: Candidate) -> PriorityFactor:
    if candidate.kind == "cluster" and candidate.signals.get("identity"):
        return PriorityFactor(name="kind", value=IDENTITY_WEIGHT, note="a master with two valid ID numbers: weighs as a conflict")
    notes = {
        "conflict": "a conflict: the model and an identity rule disagree",
        "invalidated": "a decision in force on changed records",
        "cluster": "a master that may hold two people",
        "pair": "a pair in the review band",
    }
    return PriorityFactor(name="kind", value=KIND_WEIGHT[candidate.kind], note=notes[candidate.kind])


def _people_records(candidate: Candidate, view: IndexView) -> set[str]:
    """Every record of the masters involved (their services are what a wrong answer moves), and the item's own."""
    return set(candidate.records).union(*(view.members.get(master, ()) for master in candidate.masters))


def _service_factor(records: set[str], view: IndexView, services: dict[str, dict[str, int]], today: dt.date) -> PriorityFactor:
    count = sum(sum(services.get(key, {}).values()) for key in records)
    children = [key for key in records if services.get(key, {}).get("VACCINATION") and _is_child(view.records.get(key), today)]
    value = 1.0 + min(SERVICE_CAP, SERVICE_WEIGHT * count) + (CHILD_VACCINATION_WEIGHT if children else 0.0)
    note = f"{count} service record(s)" + (", a child's vaccinations among them" if children else "")
    return PriorityFactor(name="services", value=round(value, 4), note=note)


def _is_child(record: dict[str, object] | None, today: dt.date) -> bool:
    born = record.get("birth_date") if record else None
    return isinstance(born, dt.date) and (today - born).days < CHILD_YEARS * 365.25


def _uncertainty(candidate: Candidate, view: IndexView) -> PriorityFactor:
    signals = candidate.signals
    if candidate.kind == "pair":
        p = min(max(signals["probability"], 1e-9), 1 - 1e-9)
        value = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        note = f"probability {p:.3f}: {value:.2f} bits of doubt"
    elif candidate.kind == "conflict":
        value, note = signals["probability"], f"the model was {signals['probability']:.4f} sure; the rule says otherwise"
    elif candidate.kind == "invalidated":
        value, note = 1.0, f"{int(signals['changed'])} record(s) changed since the decision"
    elif signals.get("identity"):
        value, note = 1.0, "two valid ID numbers: near certain to be two people"
    else:
        near = math.exp(-signals["margin_bits"] / 2) if "margin_bits" in signals else 0.0
        value = max(near, signals.get("sparse", 0.0) / 2)
        note = (
            f"bottleneck link {signals['margin_bits']:.1f} bits above the threshold"
            if near >= signals.get("sparse", 0.0) / 2
            else f"density {signals['density']:.0%}"
        )
    return PriorityFactor(name="uncertainty", value=round(max(value, 0.01), 4), note=note)
