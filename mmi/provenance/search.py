"""Finding a person: by ID number (among the standardised records, every version), by name (the golden name, or
the start of it), by master ID or by record key; at most MAX_HITS masters, those outside the caller's
jurisdiction left out."""

from __future__ import annotations

from sqlalchemy import Connection, or_, select

from mmi.principal import Principal
from mmi.provenance.access import split_record_key
from mmi.provenance.lookup import masters_holding
from mmi.provenance.models import SearchHit, SearchKind, SearchResult
from mmi.store.index_tables import master_record
from mmi.store.tables import source_record

MAX_HITS = 50


def search(connection: Connection, principal: Principal, kind: SearchKind, query: str) -> SearchResult:
    text = query.strip()
    if kind == "master_id":
        masters = {text}
    elif kind == "record_key":
        masters = masters_holding(connection, ["|".join(split_record_key(text))])
    elif kind == "id_number":
        found = select(source_record.c.department, source_record.c.source_key).where(source_record.c.id_number == text.upper())
        keys = {f"{department}|{source_key}" for department, source_key in connection.execute(found.distinct())}
        masters = masters_holding(connection, keys) if keys else set()
        masters |= set(connection.execute(select(master_record.c.master_id).where(master_record.c.id_number == text.upper())).scalars())
    else:
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        named = select(master_record.c.master_id).where(or_(master_record.c.name == text, master_record.c.name.like(pattern, escape="\\")))
        masters = set(connection.execute(named.limit(MAX_HITS * 4)).scalars())
    rows = (
        connection.execute(
            select(master_record).where(master_record.c.master_id.in_(sorted(masters))).order_by(master_record.c.master_id)
        ).all()
        if masters
        else []
    )
    hits = [
        SearchHit(
            master_id=row.master_id, status=row.status, name=row.name, current_district=row.current_district, record_count=row.record_count
        )
        for row in rows
        if principal.covers(row.current_district)
    ]
    return SearchResult(kind=kind, hits=hits[:MAX_HITS], truncated=len(hits) > MAX_HITS)
