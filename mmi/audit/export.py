"""`mmi audit export --out DIR`: the log as a bundle anyone can check with `tools/verify_audit_bundle.py`.

    DIR/leaves.jsonl        one line per leaf, in order: {"index", "entry" (the leaf's data, as text), "leaf_hash"}
    DIR/checkpoints/N.txt   every signed checkpoint, by tree size
    DIR/log.pub             the log's verifier key (signed-note format); keep your own copy and pass it with --key

Entries carry keys and hashes only, so a bundle holds no personal data and may be handed to a department.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import Engine, select

from mmi.store.audit_tables import audit_checkpoint, audit_leaf


def export_bundle(engine: Engine, verifier: str, out: Path) -> dict[str, int]:
    """Write the bundle into `out` (replacing an earlier one there); how many leaves and checkpoints."""
    if (out / "checkpoints").exists():
        shutil.rmtree(out / "checkpoints")
    (out / "checkpoints").mkdir(parents=True)
    leaves = checkpoints = 0
    with engine.connect() as connection, (out / "leaves.jsonl").open("w", encoding="utf-8") as handle:
        query = select(audit_leaf.c.idx, audit_leaf.c.entry, audit_leaf.c.leaf_hash).order_by(audit_leaf.c.idx)
        for idx, entry, digest in connection.execution_options(stream_results=True, yield_per=10000).execute(query):
            handle.write(json.dumps({"index": idx, "entry": entry, "leaf_hash": digest}, ensure_ascii=False) + "\n")
            leaves += 1
        for size, note in connection.execute(select(audit_checkpoint.c.tree_size, audit_checkpoint.c.note)):
            (out / "checkpoints" / f"{size}.txt").write_text(note, encoding="utf-8")
            checkpoints += 1
    (out / "log.pub").write_text(verifier + "\n", encoding="utf-8")
    return {"leaves": leaves, "checkpoints": checkpoints}
