"""`mmi audit verify|export|redact`. Verify's exit codes: 0 intact, 1 something differs (the first difference is
named first), 2 it cannot run (no config, no store, no public key)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from schemas.errors import ConfigError

EXIT_OK, EXIT_DIFFERS, EXIT_CANNOT = 0, 1, 2


def run_audit(args: argparse.Namespace) -> int:
    from mmi.audit.checkpoints import audit_settings, trusted_verifier
    from mmi.config import load_settings
    from mmi.store.database import open_store

    settings = load_settings(args.config)
    engine = open_store(settings.store_url)
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
