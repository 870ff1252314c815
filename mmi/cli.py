"""The `mmi` command line: every step of the flow, runnable without a scheduler.

Exit codes: 0 done; 1 a department failed in a way that may pass (retry later); 2 the config or a department's
set-up is wrong (fix it first).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from mmi.errors import ConfigError, MMIError

EXIT_OK, EXIT_RETRY, EXIT_FIX = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or EXIT_OK)
    except MMIError as error:
        print(f"mmi: {error}", file=sys.stderr)
        return EXIT_FIX


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
    sub.add_argument("--source", choices=("public_security", "human_resources", "statistics", "health"), help="only this department")
    sub.add_argument("--one-at-a-time", action="store_true", help="ingest departments one after another in this process "
                     "(default: side by side, one process per core)")
    command("migrate", _migrate, "bring the store's schema up to date")
    command("status", _status, "what the store holds: batches, records and quarantine per department")
    sub = command("export", _export, "write what the store holds as CSV")
    sub.add_argument("what", choices=("records", "quarantine"))
    sub.add_argument("--out", required=True, type=Path)
    sub = command("generate", _generate, "write synthetic feeds of all four departments, with a truth file")
    sub.add_argument("--out", required=True, type=Path)
    sub.add_argument("--people", type=int, default=1000)
    sub.add_argument("--seed", type=int, default=1)
    sub.add_argument("--noise", type=float, default=1.0, help="error rate multiplier (1: realistic, 3: bad)")
    sub = command("generate-delta", _generate_delta, "append the departments' next delivery to generated feeds")
    sub.add_argument("--out", required=True, type=Path)
    sub.add_argument("--seed", type=int, default=2)
    sub.add_argument("--fraction", type=float, default=0.01, help="share of people changed or new")
    sub = command("demo", _demo, "generate feeds, serve the health API locally, ingest, export: the flow on one machine")
    sub.add_argument("--out", type=Path, default=Path("demo"))
    sub.add_argument("--people", type=int, default=3000)
    sub = command("health-api", _health_api, "serve a folder's persons.jsonl and services.jsonl as the health department's API")
    sub.add_argument("--data", required=True, type=Path, help="folder with persons.jsonl and services.jsonl")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8701)
    sub.add_argument("--token", help="bearer token to require (default: the generator's)")
    return parser


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from mmi.config import load_settings
    from mmi.store.database import open_store

    settings = load_settings(args.config)
    return settings, open_store(settings.store_url)


def _ingest(args: argparse.Namespace) -> int:
    from mmi.ingest import ingest

    settings, engine = _engine(args)
    if args.source and args.source not in settings.configured_sources:
        raise ConfigError(f"--source {args.source}: the config has no [sources.{args.source}] section")
    reports = ingest(settings, engine, only=args.source, parallel=not args.one_at_a_time)
    print(f"{'department':<16} {'delivered':>9} {'new':>8} {'unchanged':>9} {'quarant.':>8} {'again':>6}  error")
    for report in reports:
        print(f"{report.department:<16} {report.delivered:>9} {report.new_versions:>8} {report.unchanged:>9} "
              f"{report.quarantined:>8} {report.already_quarantined:>6}  {report.error or ''}")
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
    from mmi.export import export_quarantine, export_records

    _settings, engine = _engine(args)
    count = (export_records if args.what == "records" else export_quarantine)(engine, args.out)
    print(f"wrote {count} {args.what} to {args.out}")


def _generate(args: argparse.Namespace) -> None:
    from synthetic import generate_feeds

    counts = generate_feeds(args.out, people=args.people, seed=args.seed, noise=args.noise)
    print(json.dumps(counts, ensure_ascii=False, default=str))
    print(f"feeds written to {args.out}; config: {args.out / 'mmi.toml'}")


def _generate_delta(args: argparse.Namespace) -> None:
    from synthetic import generate_delta

    print(json.dumps(generate_delta(args.out, seed=args.seed, fraction=args.fraction), ensure_ascii=False, default=str))


def _demo(args: argparse.Namespace) -> None:
    from mmi.demo import run_demo

    run_demo(args.out, args.people)


def _health_api(args: argparse.Namespace) -> None:
    from synthetic.health_api import HEALTH_TOKEN, serve_health_api

    print(f"health API on http://{args.host}:{args.port}/api/v1/ serving {args.data}", flush=True)
    serve_health_api(args.data, args.token or HEALTH_TOKEN, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
