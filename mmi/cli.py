"""The `mmi` command line: every step of the flow, runnable without a scheduler.

Exit codes: 0 done; 1 a department failed in a way that may pass (retry later); 2 the config or a department's
set-up is wrong (fix it first).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from connectors.registry import DEPARTMENTS
from mmi.indicators.cli import add_indicator_commands
from schemas.errors import ConfigError, NotReadyToTrain, TransientError

EXIT_OK, EXIT_RETRY, EXIT_FIX = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or EXIT_OK)
    except Exception as error:
        from mmi.store.faults import store_fault

        fault = store_fault(error)  # an MMIError as it is; a database's failure told apart, without its values
        if fault is None:
            raise
        print(f"mmi: {fault}", file=sys.stderr)
        return EXIT_RETRY if isinstance(fault, TransientError) else EXIT_FIX


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="the TOML config file (default: $MMI_CONFIG)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser = argparse.ArgumentParser(prog="mmi", description="Master Migrant Index", parents=[common])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int | None], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    sub = command("ingest", _ingest, "pull every department's feed into source records or quarantine")
    sub.add_argument("--source", choices=DEPARTMENTS, help="only this department")
    sub.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="ingest departments one after another in this process (default: side by side, one process per core)",
    )
    command("migrate", _migrate, "bring the store's schema up to date")
    command("status", _status, "what the store holds: batches, records and quarantine per department")
    sub = command("export", _export, "write what the store holds as CSV")
    sub.add_argument("what", choices=("records", "quarantine", "xref", "review"))
    sub.add_argument("--out", required=True, type=Path)
    _linkage_commands(command)
    _exchange_commands(command)
    add_indicator_commands(command)
    sub = command("audit", _audit, "the tamper-evident log: verify it against the store, export it, or redact a payload")
    sub.add_argument("action", choices=("verify", "export", "redact"))
    sub.add_argument("--since-checkpoint", type=Path, help="verify: a checkpoint you kept; check the log only grew since")
    sub.add_argument("--out", type=Path, help="export: the bundle's folder")
    sub.add_argument("--record", help="redact: department|source_key")
    sub.add_argument("--version", type=int, help="redact: the version whose payload to erase")
    sub.add_argument("--reason", help="redact: why (no personal data)")
    return parser


def _audit(args: argparse.Namespace) -> int:
    from mmi.audit.commands import run_audit

    return run_audit(args)


def _exchange_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    command("publish", _publish, "build every pending change set for the subscribers, from the master index's outbox")
    command("run", _run, "ingest, link, publish: the whole flow once")
    sub = command("serve", _serve, "serve the change-set API (OpenAPI at /openapi.json)")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8700)
    sub.add_argument("--workers", type=int, default=1, help="server processes (each keeps its own rate-limit budgets)")
    sub.add_argument("--tls-cert", type=Path, help="serve HTTPS: the certificate chain (PEM); with --tls-key")
    sub.add_argument("--tls-key", type=Path, help="serve HTTPS: the certificate's private key (PEM)")
    sub.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"), help="info: log every request")
    sub = command(
        "token", _token, "print a signed bearer token for the API (the last line of the output); `mmi token revoke TOKEN` revokes one"
    )
    sub.add_argument(
        "--role", choices=("subscriber", "steward", "auditor", "admin", "planner"), help="the new token's role (required to issue)"
    )
    sub.add_argument("--subject", help="the new token's subject (required to issue); for a subscriber: the subscription's name")
    revoking = sub.add_subparsers(dest="token_action", required=False, metavar="revoke")
    what = "revoke a token before it expires: every server refuses it within [api] revocation_cache_seconds"
    revoke = revoking.add_parser("revoke", help=what, description=what)
    # SUPPRESS: a --config given before `revoke` (to `mmi token`) is not replaced by this parser's absent one
    revoke.add_argument("--config", default=argparse.SUPPRESS, help="the TOML config file (default: $MMI_CONFIG)")
    revoke.add_argument("token_or_jti", metavar="TOKEN|JTI", help="the token, or its jti")
    revoke.add_argument("--by", default=getpass.getuser(), help="who revokes (default: the current user)")
    revoke.set_defaults(run=_revoke)
    sub.add_argument("--ttl", type=int, help="seconds the token is valid (default: [api] token_ttl_seconds)")
    sub.add_argument("--jurisdiction", help="district code prefixes the token reaches, e.g. 4101,4102 (default: everywhere)")
    sub = command("login", _login, "print a one-time link that signs a browser in to the pages (/ui/); it works once, for minutes")
    sub.add_argument("--role", required=True, choices=("steward", "auditor", "admin", "planner", "subscriber"))
    sub.add_argument("--subject", required=True, help="who signs in (a steward's name; for a subscriber: a health subscription's name)")
    sub.add_argument("--jurisdiction", help="district code prefixes the session reaches, e.g. 4101,4102 (default: everywhere)")
    sub.add_argument("--url", help="where browsers reach mmi serve (default: [web] public_url)")
    sub = command("keys", _keys, "create the API's signing key and JWKS, or rotate them")
    sub.add_argument("--rotate", action="store_true", help="replace the signing key; the old public key stays valid")
    sub.add_argument("--algorithm", choices=("ES256", "RS256"), default="ES256")


def _linkage_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    command("train", _train, "train the linkage model on the store's records and make it the current version")
    sub = command("link", _link, "link new and changed source records into the master index (incremental unless --full)")
    sub.add_argument("--full", action="store_true", help="re-score and re-cluster every record")
    sub = command("constrain", _constrain, "record a steward's decision on two records (department|source_key); the next link applies it")
    sub.add_argument("kind", choices=("must-link", "cannot-link"))
    sub.add_argument("record_a")
    sub.add_argument("record_b")
    sub.add_argument("--reason", required=True)
    sub.add_argument("--by", default=getpass.getuser(), help="who decided (default: the current user)")
    sub = command("evaluate", _evaluate, "the index's clusters against a truth file: pairwise and cluster-level figures as JSON")
    sub.add_argument("--truth", required=True, type=Path, help="CSV department,source_key,person")
    sub.add_argument(
        "--worst",
        type=int,
        default=0,
        metavar="N",
        help="also list the N worst false merges and false splits, records side by side, with their pair scores",
    )


def _train(args: argparse.Namespace) -> None:
    from mmi.index import train_and_store
    from mmi.index.engines import linkage_engine

    settings, engine = _engine(args)
    version = train_and_store(engine, trained_by=getpass.getuser(), on=linkage_engine(settings))
    print(json.dumps({"model_version_id": version.id, "sha256": version.sha256, "trained_by": version.trained_by}))


def _link(args: argparse.Namespace) -> None:
    from mmi.index import link_index

    settings, engine = _engine(args)
    print(json.dumps(link_index(settings, engine, full=args.full).as_dict()))


def _constrain(args: argparse.Namespace) -> None:
    from mmi.index import add_constraint

    _settings, engine = _engine(args)
    number = add_constraint(
        engine,
        "must_link" if args.kind == "must-link" else "cannot_link",
        args.record_a,
        args.record_b,
        reason=args.reason,
        decided_by=args.by,
    )
    print(f"constraint {number} stored ({args.kind} {args.record_a} {args.record_b}); the next `mmi link` applies it")


def _evaluate(args: argparse.Namespace) -> None:
    from mmi.index.evaluation import evaluate_index

    _settings, engine = _engine(args)
    print(json.dumps(evaluate_index(engine, args.truth, worst=args.worst), indent=2, ensure_ascii=False, default=str))


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from mmi.config import load_settings
    from mmi.store.database import open_store

    settings = load_settings(args.config)
    return settings, open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds)


def _ingest(args: argparse.Namespace) -> int:
    from mmi.ingest import ingest

    settings, engine = _engine(args)
    if args.source and args.source not in settings.configured_sources:
        raise ConfigError(f"--source {args.source}: the config has no [sources.{args.source}] section")
    reports = ingest(settings, engine, only=args.source, parallel=not args.one_at_a_time)
    print(f"{'department':<16} {'delivered':>9} {'new':>8} {'unchanged':>9} {'quarant.':>8} {'again':>6}  error")
    for report in reports:
        print(
            f"{report.department:<16} {report.delivered:>9} {report.new_versions:>8} {report.unchanged:>9} "
            f"{report.quarantined:>8} {report.already_quarantined:>6}  {report.error or ''}"
        )
    print(json.dumps([report.as_dict() for report in reports], ensure_ascii=False))
    if any(report.error and not report.transient for report in reports):
        return EXIT_FIX
    return EXIT_RETRY if any(report.error for report in reports) else EXIT_OK


def _migrate(args: argparse.Namespace) -> None:
    _settings, engine = _engine(args)
    print(f"store at {engine.url!r} is up to date")


def _status(args: argparse.Namespace) -> None:
    from mmi.store.status import store_status

    _settings, engine = _engine(args)
    print(json.dumps(store_status(engine), ensure_ascii=False, indent=2, default=str))


def _export(args: argparse.Namespace) -> None:
    from mmi.export import export_quarantine, export_records, export_review, export_xref

    settings, engine = _engine(args)
    exports = {
        "records": export_records,
        "quarantine": export_quarantine,
        "xref": export_xref,
        "review": lambda engine, out: export_review(engine, out, settings.linkage.match_threshold),
    }
    count = exports[args.what](engine, args.out)
    print(f"wrote {count} {args.what} to {args.out}")


def _publish(args: argparse.Namespace) -> None:
    from mmi.exchange import publish

    settings, engine = _engine(args)
    print(json.dumps(publish(settings, engine).as_dict()))


def _run(args: argparse.Namespace) -> int:
    from mmi.exchange import publish
    from mmi.index import link_index  # type: ignore[attr-defined,unused-ignore]

    code = _ingest(args_with(args, source=None, one_at_a_time=False))
    settings, engine = _engine(args)
    try:
        linked = link_index(settings, engine, full=False)
    except NotReadyToTrain as waiting:  # a department failed before the first model: run again once it answers
        print(f"mmi: {waiting}", file=sys.stderr)
        return max(code, EXIT_RETRY)
    print(json.dumps({"link": _as_plain(linked)}, default=str))
    print(json.dumps({"publish": publish(settings, engine).as_dict()}))
    return code


def args_with(args: argparse.Namespace, **values: object) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), **values})


def _as_plain(value: object) -> object:
    as_dict = getattr(value, "as_dict", None)
    return as_dict() if callable(as_dict) else value


def _serve(args: argparse.Namespace) -> None:
    from mmi.api import serve

    settings, engine = _engine(args)
    print(
        f"change-set API on {'https' if args.tls_cert else 'http'}://{args.host}:{args.port}/v1/changesets (OpenAPI: /openapi.json); "
        "stewards' pages on /ui/ (sign in: mmi login)",
        flush=True,
    )
    serve(
        settings, engine, args.host, args.port, workers=args.workers, tls_cert=args.tls_cert, tls_key=args.tls_key, log_level=args.log_level
    )


def _token(args: argparse.Namespace) -> None:
    from mmi.api import api_settings, ensure_keys, issue_token
    from mmi.api.auth import parse_jurisdiction
    from mmi.config import load_settings
    from mmi.exchange import exchange_settings

    if not args.role or not args.subject:
        raise ConfigError("mmi token: give --role and --subject to issue a token (or `mmi token revoke TOKEN|JTI`)")
    settings = load_settings(args.config)
    api = api_settings(settings)
    if args.role == "subscriber" and args.subject not in exchange_settings(settings).subscriptions:
        raise ConfigError(f"--subject {args.subject}: no [subscribers.{args.subject}] in the config")
    if ensure_keys(api):
        print(f"created a signing key {api.signing_key} and its JWKS {api.jwks}", file=sys.stderr)
    try:
        jurisdiction = parse_jurisdiction(args.jurisdiction)
    except ValueError as error:
        raise ConfigError(f"--jurisdiction {args.jurisdiction}: {error}") from None
    token = issue_token(api, args.role, args.subject, args.ttl, jurisdiction=jurisdiction)
    from mmi.audit.tokens import log_token
    from mmi.store.database import open_store

    log_token(
        open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds), token, args.role, args.subject
    )  # every token issued is in the audit log
    print(token)


def _revoke(args: argparse.Namespace) -> None:
    from mmi.api.revocation import revoke
    from mmi.audit.checkpoints import audit_settings, make_checkpoint

    settings, engine = _engine(args)
    revoked = revoke(engine, args.token_or_jti, args.by)
    make_checkpoint(engine, audit_settings(settings), "token revoke")  # signs the revocation's leaf
    state = "was revoked already" if revoked.already else "is revoked: every server refuses it within [api] revocation_cache_seconds"
    print(f"token {revoked.jti} ({revoked.subject or 'subject unknown'}) {state}")


def _login(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from mmi.api.auth import parse_jurisdiction
    from mmi.exchange import exchange_settings
    from mmi.principal import Principal
    from mmi.web.sessions import create_login_code, login_link
    from mmi.web.settings import web_settings

    settings, engine = _engine(args)
    if args.role == "subscriber":  # only a health subscription has pages: its worklists (mmi.indicators.service)
        subscription = exchange_settings(settings).subscriptions.get(args.subject)
        if subscription is None or subscription.department != "health":
            raise ConfigError(f"--subject {args.subject}: a subscriber signs in as a [subscribers.NAME] of department health")
    web = web_settings(settings)
    if args.url:
        web = replace(web, public_url=args.url.rstrip("/"))
    try:
        jurisdiction = parse_jurisdiction(args.jurisdiction)
    except ValueError as error:
        raise ConfigError(f"--jurisdiction {args.jurisdiction}: {error}") from None
    code = create_login_code(engine, web, Principal(args.subject, args.role, jurisdiction))
    print(f"open this link within {web.login_code_seconds // 60} minutes; it signs in once, then is spent:", file=sys.stderr)
    print(login_link(web, code))


def _keys(args: argparse.Namespace) -> None:
    from mmi.api import api_settings, create_keys
    from mmi.config import load_settings

    api = api_settings(load_settings(args.config))
    kid = create_keys(api, args.algorithm, rotate=args.rotate)
    print(f"signing key {api.signing_key} (kid {kid}); public keys: {api.jwks}")


if __name__ == "__main__":
    sys.exit(main())
