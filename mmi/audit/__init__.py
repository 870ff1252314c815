"""The tamper-evident log: an append-only Merkle tree (RFC 6962/9162) over every change to a person's data and
every disclosure, with signed checkpoints (C2SP signed notes) and a verifier that recomputes it from the store.

- `merkle`: leaf and node hashing, tree heads, inclusion and consistency proofs and their checks;
- `log`: the leaf table's writer, `append(connection, kind, ...)`, called in the transaction of the change;
- `checkpoints`: the log's own Ed25519 key and its signed checkpoints;
- `verify`: `mmi audit verify`; `export`: the bundle `tools/verify_audit_bundle.py` checks on its own.
"""
