"""The auditors' pages (under /ui/audit/): search (posted, so that an ID number never sits in a URL), a master's provenance (as of a time), a record version's raw
payload, the disclosures of a person, the log's state and the auditors' recent reads.

Each page calls the provenance service (mmi.provenance) exactly as the JSON API does and renders what it returns;
the rules (roles, jurisdiction, recording every read) are the service's. The as-of picker is a plain GET form; its
time is read as UTC.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from mmi import provenance
from mmi.provenance.models import SearchKind
from mmi.web.guard import AUDITORS, PageRoute, page, session_of, web_context
from mmi.web.rendering import render, render_error

router = APIRouter(prefix="/ui/audit", route_class=PageRoute, include_in_schema=False)
SEARCH_KINDS: tuple[SearchKind, ...] = ("id_number", "name", "master_id", "record_key")
HEX_WIDTH = 16
Bounded = Annotated[str, Query(max_length=200)]


@router.get("")
@page(AUDITORS)
def search_form(request: Request) -> Response:
    return render(request, "audit_search.html", kinds=SEARCH_KINDS, kind="name", q="", result=None)


@router.post("")
@page(AUDITORS)
def search(request: Request, kind: Annotated[str, Form(max_length=20)], q: Annotated[str, Form(max_length=200)]) -> Response:
    """A search is posted, not put in the address: an ID number or a name stays out of URLs, histories and logs."""
    chosen: SearchKind = kind if kind in SEARCH_KINDS else "name"  # type: ignore[assignment]
    context, session = web_context(request), session_of(request)
    result = provenance.search(context.engine, session.principal, chosen, q, context.read_terms_key, channel="page")
    return render(request, "audit_search.html", kinds=SEARCH_KINDS, kind=chosen, q=q, result=result)


@router.get("/masters/{master_id}")
@page(AUDITORS)
def master(request: Request, master_id: str, as_of: Bounded = "") -> Response:
    when = _as_of(as_of)
    context, session = web_context(request), session_of(request)
    view = provenance.master(context.engine, session.principal, master_id, when, channel="page")
    picked = when.strftime("%Y-%m-%dT%H:%M:%S") if when else ""
    # One timeline, oldest first: what the index did and what stewards decided, interleaved by time.
    timeline = sorted(
        [("event", event.occurred_at, event) for event in view.events]
        + [("decision", decision.decided_at, decision) for decision in view.decisions],
        key=lambda entry: entry[1],
    )
    return render(request, "audit_master.html", master=view, as_of=picked, timeline=timeline)


def _as_of(text: str) -> dt.datetime | None:
    """The picker's value as a UTC time; None when empty."""
    if not text.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise provenance.InvalidQuery(f"as_of {text[:40]!r}: give a date and time (YYYY-MM-DDTHH:MM[:SS], UTC)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@router.get("/records/{department}/{source_key}/versions/{version}")
@page(AUDITORS)
def record(request: Request, department: str, source_key: str, version: str) -> Response:
    if not (version.isdigit() and 1 <= int(version) < 2**31):  # parsed here: a bad one gets a page, not JSON
        return render_error(request, 422, "error.422", f"version {version[:20]!r}: a number from 1")
    context, session = web_context(request), session_of(request)
    view = provenance.record(context.engine, session.principal, department, source_key, int(version), channel="page")
    raw = base64.b64decode(view.payload_base64)
    text = raw.decode("utf-8", errors="replace")
    return render(request, "audit_record.html", record=view, raw_text=text, raw_size=len(raw), hex_lines=_hex_lines(raw))


def _hex_lines(raw: bytes) -> list[tuple[str, str]]:
    """(offset, bytes in hex) per line of HEX_WIDTH bytes: the payload byte for byte, as the checksum saw it."""
    return [(f"{start:08x}", raw[start : start + HEX_WIDTH].hex(" ")) for start in range(0, len(raw), HEX_WIDTH)]


@router.get("/disclosures")
@page(AUDITORS)
def disclosures(request: Request, master_id: Bounded = "", department: Bounded = "", source_key: Bounded = "") -> Response:
    context, session = web_context(request), session_of(request)
    found = provenance.disclosures(
        context.engine,
        session.principal,
        context.subscriptions,
        context.changesets_dir,
        context.read_terms_key,
        master_id=master_id or None,
        department=department or None,
        source_key=source_key or None,
        channel="page",
    )
    return render(
        request, "audit_disclosures.html", found=found, master_id=master_id, record_key=f"{department}|{source_key}" if department else ""
    )


@router.get("/log")
@page(AUDITORS)
def log(request: Request) -> Response:
    context, session = web_context(request), session_of(request)
    state = provenance.state(context.engine, session.principal)
    reads = provenance.reads(context.engine, session.principal, limit=50)
    return render(request, "audit_log.html", state=state, reads=reads)
