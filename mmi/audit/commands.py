"""`mmi audit verify|export|redact`. Verify's exit codes: 0 intact, 1 something differs (the first difference is
named first), 2 it cannot run (no config, no store, no public key)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING

from schemas.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mmi.audit.verify import Report

EXIT_OK, EXIT_DIFFERS, EXIT_CANNOT = 0, 1, 2


def run_audit(args: argparse.Namespace) -> int:
    from mmi.audit.checkpoints import audit_settings, trusted_verifier
    from mmi.config import load_settings
    from mmi.store.database import open_store

    settings = load_settings(args.config)
    engine = open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds)
    if args.action == "redact":
        if not (args.record and args.version and args.reason):
            raise ConfigError("mmi audit redact needs --record department|source_key --version N --reason R")
        from mmi.audit.redact import redact

        print(f"redacted: leaf {redact(engine, args.record, args.version, args.reason, getpass.getuser())}")
        return EXIT_OK
    verifier = trusted_verifier(audit_settings(settings))
    if args.action == "export":
        if args.out is None:
            raise ConfigError("mmi audit export needs --out DIR")
        from mmi.audit.export import export_bundle

        print(json.dumps(export_bundle(engine, verifier, args.out)))
        return EXIT_OK
    return _verify(args, settings, engine, verifier)


def _verify(args: argparse.Namespace, settings, engine, verifier: str) -> int:  # type: ignore[no-untyped-def]
    from mmi.audit.verify import verify_store

    since = None
    if args.since_checkpoint is not None:
        try:
            since = args.since_checkpoint.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"--since-checkpoint {args.since_checkpoint}: {error.strerror}") from None
    out_dir = settings.exchange.out_dir if settings.exchange is not None else None
    try:
        report = verify_store(engine, verifier, out_dir, since)
    except Exception as error:  # noqa: BLE001 - the store could not be read at all: say so, exit 2
        print(f"mmi audit verify: cannot run: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_CANNOT
    _record_result(engine, report)
    for line in report.redacted:
        print(f"redacted: {line}")
    summary = {
        "leaves": report.leaves,
        "checkpoints": report.checkpoints,
        "rows_checked": report.rows_checked,
        "redacted": len(report.redacted),
        "problems": len(report.problems),
    }
    if report.intact:
        print(f"intact: {json.dumps(summary)}")
        return EXIT_OK
    print(f"TAMPERED: {report.problems[0]}", file=sys.stderr)
    for problem in report.problems[1:50]:
        print(f"  also: {problem}", file=sys.stderr)
    print(f"differs: {json.dumps(summary)}")
    return EXIT_DIFFERS


def _record_result(engine: Engine, report: Report) -> None:
    """Keep the run's result for the auditors' page (`audit_verification`, outside the log it describes). A store
    that cannot take the row (read-only, or before migration 0010) still gets its verdict: the row is only a note."""
    import datetime as dt

    from sqlalchemy import insert
    from sqlalchemy.exc import SQLAlchemyError

    from mmi.store.audit_tables import audit_verification

    values = {
        "ran_at": dt.datetime.now(dt.UTC),
        "ran_by": getpass.getuser(),
        "intact": report.intact,
        "leaves": report.leaves,
        "checkpoints": report.checkpoints,
        "rows_checked": report.rows_checked,
        "redacted": len(report.redacted),
        "problems": len(report.problems),
        "first_problem": report.problems[0][:2000] if report.problems else None,
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(audit_verification).values(**values))
    except SQLAlchemyError as error:
        print(f"mmi audit verify: the result was not recorded in the store ({type(error).__name__})", file=sys.stderr)
