"""An index auditors can read, served for real: generated feeds linked and published (tests/mmi/web/workbench.py),
one change set downloaded by its subscriber, then two masters merged by a must-link and a link run (what
`mmi constrain must-link` and `mmi link` call), so that the store holds a merge and a time before it."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import Engine, select

from mmi.exchange.subscriptions import exchange_settings
from mmi.index import add_constraint, link_index
from mmi.store.exchange_tables import changeset_event
from mmi.store.index_tables import master_event, master_record, master_xref
from tests.conftest import fresh_postgres_schema
from tests.mmi.api.tokens import claims, signed
from tests.mmi.web.server import Served, serve
from tests.mmi.web.workbench import build_index


@dataclasses.dataclass
class Audited:
    served: Served
    before_merge: dt.datetime
    survivor: str  # the master that absorbed the other
    retired: str
    survivor_records: list[str]  # each master's records before the merge
    retired_records: list[str]
    downloaded: tuple[str, int]  # (subscriber, change set) downloaded once by the subscriber's own token

    def get(
        self, path: str, role: str | None = "auditor", subject: str = "audit.wang", params: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = {}
        if role is not None:
            headers["Authorization"] = f"Bearer {signed(self.served.api, claims(self.served.api, role=role, subject=subject))}"
        return httpx.get(self.served.base_url + path, headers=headers, params=params, timeout=60)


@contextlib.contextmanager
def audited_index(out: Path, backend: str, postgres_problem: str | None, people: int = 300) -> Iterator[Audited]:
    with contextlib.ExitStack() as stack:  # a PostgreSQL store's schema is dropped at the end
        url = stack.enter_context(fresh_postgres_schema(postgres_problem)) if backend == "postgresql" else None
        yield from _audited(out, url, people)


def _audited(out: Path, url: str | None, people: int) -> Iterator[Audited]:
    settings, engine = build_index(out / "feeds", url, people=people)
    try:
        with serve(out, settings.store_url, engine, exchange=exchange_settings(settings)) as served:
            served.index_settings = settings
            downloaded = _download_one(served, engine)
            # A whole second between the index's first events and `before`: the pages' as-of picker works to the
            # second, so `before` cut to its second must still fall after them (within the same second it could not).
            time.sleep(1.0)
            before = dt.datetime.now(dt.UTC)
            time.sleep(0.05)
            survivor, retired, records = _merge_two(settings, engine)
            yield Audited(served, before, survivor, retired, records[survivor], records[retired], downloaded)
    finally:
        engine.dispose()


def _download_one(served: Served, engine: Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        subscriber, seq = connection.execute(
            select(changeset_event.c.subscriber, changeset_event.c.changeset_seq)
            .where(changeset_event.c.subscriber != "everywhere")
            .limit(1)
        ).one()
    token = signed(served.api, claims(served.api, role="subscriber", subject=subscriber))
    response = httpx.get(f"{served.base_url}/v1/changesets/{seq}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200, response.text
    return subscriber, int(seq)


def _merge_two(settings, engine: Engine) -> tuple[str, str, dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Must-link a record of one single-record master to one of another, link, and return (survivor, retired)."""
    with engine.connect() as connection:
        singles = (
            connection.execute(
                select(master_record.c.master_id)
                .where(master_record.c.status == "active", master_record.c.record_count == 1, master_record.c.id_number.is_(None))
                .order_by(master_record.c.master_id)
                .limit(2)
            )
            .scalars()
            .all()
        )
        if len(singles) < 2:  # without a valid-ID-free pair, any two single-record masters
            singles = (
                connection.execute(
                    select(master_record.c.master_id).where(master_record.c.status == "active", master_record.c.record_count == 1).limit(2)
                )
                .scalars()
                .all()
            )
        records = {
            master: [
                f"{d}|{k}"
                for d, k in connection.execute(
                    select(master_xref.c.department, master_xref.c.source_key).where(master_xref.c.master_id == master)
                )
            ]
            for master in singles
        }
    first, second = singles
    add_constraint(engine, "must_link", records[first][0], records[second][0], reason="test: the same person", decided_by="li.steward")
    link_index(settings, engine)
    with engine.connect() as connection:
        retire = connection.execute(
            select(master_event.c.master_id, master_event.c.related).where(
                master_event.c.operation == "retire", master_event.c.master_id.in_(singles)
            )
        ).one()
    retired = retire.master_id
    survivor = second if retired == first else first
    return survivor, retired, records
