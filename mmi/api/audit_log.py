"""The audit log's API: its latest signed checkpoint and the proofs a department checks it with.

    GET /v1/audit/checkpoint                 the latest checkpoint (C2SP signed note, text/plain)
    GET /v1/audit/proof?leaf=I&size=N        inclusion proof of leaf I in the tree of size N, with the leaf's entry
    GET /v1/audit/consistency?from=M&to=N    consistency proof: the tree of size M is a prefix of the one of size N

Roles: auditor, admin, and subscriber (a department keeps the checkpoints it saw); stewards get 403. Sizes must be
those the log has reached; anything larger is a 404, not an error of the server.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from mmi.api.dependencies import Caller, context_of
from mmi.api.parameters import MAX_ID as MAX_INDEX
from mmi.audit import merkle
from mmi.audit.checkpoints import latest_note
from mmi.audit.log import leaf_hashes, tree_head
from mmi.store.audit_tables import audit_leaf

router = APIRouter(tags=["audit log"])


def _allowed(request: Request, principal: Caller) -> Any:
    """The store's engine, for a caller whose role may read the log (401 without a valid token, 403 otherwise)."""
    if principal.role not in ("auditor", "admin", "subscriber"):
        raise HTTPException(403, f"role {principal.role} may not read the audit log")
    return context_of(request).engine


Engine = Annotated[Any, Depends(_allowed)]
Size = Annotated[int, Query(ge=1, le=MAX_INDEX)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _size_known(engine: Any, size: int) -> int:
    with engine.connect() as connection:
        current, _root = tree_head(connection)
    if size > current:
        raise HTTPException(404, f"the log has {current} leaves, not {size}")
    return current


@router.get("/v1/audit/checkpoint", response_class=PlainTextResponse, responses={404: {"description": "no checkpoint yet"}})
def checkpoint(engine: Engine) -> PlainTextResponse:
    with engine.connect() as connection:
        note = latest_note(connection)
    if note is None:
        raise HTTPException(404, "the log has no checkpoint yet")
    return PlainTextResponse(note)


@router.get("/v1/audit/proof")
def proof(engine: Engine, leaf: Annotated[int, Query(ge=0, le=MAX_INDEX)], size: Size) -> dict[str, Any]:
    _size_known(engine, size)
    if leaf >= size:
        raise HTTPException(404, f"leaf {leaf} is not in a tree of {size}")
    with engine.connect() as connection:
        hashes = leaf_hashes(connection, size)
        entry = connection.execute(select(audit_leaf.c.entry).where(audit_leaf.c.idx == leaf)).scalar_one()
    return {
        "leaf": leaf,
        "size": size,
        "entry": entry,
        "leaf_hash": _b64(hashes[leaf]),
        "root": _b64(merkle.root(hashes)),
        "proof": [_b64(node) for node in merkle.inclusion_proof(leaf, hashes)],
    }


@router.get("/v1/audit/consistency")
def consistency(
    engine: Engine, old: Annotated[int, Query(alias="from", ge=1, le=MAX_INDEX)], new: Annotated[int, Query(alias="to", ge=1, le=MAX_INDEX)]
) -> dict[str, Any]:
    if old > new:
        raise HTTPException(400, f"from ({old}) must not be larger than to ({new})")
    _size_known(engine, new)
    with engine.connect() as connection:
        hashes = leaf_hashes(connection, new)
    return {
        "from": old,
        "to": new,
        "from_root": _b64(merkle.root(hashes[:old])),
        "to_root": _b64(merkle.root(hashes)),
        "proof": [_b64(node) for node in merkle.consistency_proof(old, hashes)],
    }
