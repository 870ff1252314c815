"""The development command line, `python -m devtools`: generated feeds, the local health API, the demo.

These are not the service's commands (those are `mmi`): they stand in for the departments (their feeds, the
health department's API) and show the whole flow on one machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from schemas.errors import MMIError

EXIT_OK, EXIT_FIX = 0, 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except MMIError as error:
        print(f"devtools: {error}", file=sys.stderr)
        return EXIT_FIX
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools", description="Master Migrant Index: development tools")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], None], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    sub = command("generate", _generate, "write synthetic feeds of all four departments, with a truth file")
    sub.add_argument("--out", required=True, type=Path)
    sub.add_argument("--people", type=int, default=1000)
    sub.add_argument("--seed", type=int, default=1)
    sub.add_argument("--noise", type=float, default=1.0, help="error rate multiplier (1: realistic, 3: bad)")
    _mix_arguments(sub)
    sub = command("generate-delta", _generate_delta, "append the departments' next delivery to generated feeds")
    sub.add_argument("--out", required=True, type=Path)
    sub.add_argument("--seed", type=int, default=2)
    sub.add_argument("--fraction", type=float, default=0.01, help="share of people changed or new")
    sub = command("demo", _demo, "the whole flow on one machine through the real Airflow DAGs, then serve the exchange API")
    sub.add_argument("--out", type=Path, default=Path("demo"))
    sub.add_argument("--port", type=int, default=8700, help="where to serve the exchange API afterwards")
    sub.add_argument("--no-serve", action="store_true", help="stop after the batch part")
    sub.add_argument("--people", type=int, default=3000)
    sub = command("health-api", _health_api, "serve a folder's persons.jsonl and services.jsonl as the health department's API")
    sub.add_argument("--data", required=True, type=Path, help="folder with persons.jsonl and services.jsonl")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8701)
    sub.add_argument("--token", help="bearer token to require (default: the generator's)")
    return parser


def _mix_arguments(sub: argparse.ArgumentParser) -> None:
    """The population mix (synthetic.mix): shares of people, each defaulting to the generator's usual mix."""
    from synthetic.mix import DEFAULT_MIX

    for name, help in (
        ("twins", "share of people who are twins"),
        ("namesakes", "share of people in same-name groups born the same month"),
        ("families", "share of people in households of a parent and young children"),
        ("several-children", "share of those households with two or three children"),
        ("no-id", "share of records written without an ID number"),
        ("coverage", "multiplier of every department's coverage"),
    ):
        default = getattr(DEFAULT_MIX, name.replace("-", "_"))
        sub.add_argument(f"--{name}", type=float, default=default, help=f"{help} (default {default})")


def _generate(args: argparse.Namespace) -> None:
    from synthetic import generate_feeds
    from synthetic.mix import PopulationMix

    try:
        mix = PopulationMix(
            twins=args.twins,
            namesakes=args.namesakes,
            families=args.families,
            several_children=args.several_children,
            no_id=args.no_id,
            coverage=args.coverage,
        )
    except ValueError as error:
        raise SystemExit(f"python -m devtools generate: {error}") from error
    counts = generate_feeds(args.out, people=args.people, seed=args.seed, noise=args.noise, mix=mix)
    print(json.dumps(counts, ensure_ascii=False, default=str))
    print(f"feeds written to {args.out}; config: {args.out / 'mmi.toml'}")


def _generate_delta(args: argparse.Namespace) -> None:
    from synthetic import generate_delta

    print(json.dumps(generate_delta(args.out, seed=args.seed, fraction=args.fraction), ensure_ascii=False, default=str))


def _demo(args: argparse.Namespace) -> None:
    from devtools.demo import run_demo

    run_demo(args.out, args.people, serve=not args.no_serve, port=args.port)


def _health_api(args: argparse.Namespace) -> None:
    from synthetic.health_api import HEALTH_TOKEN, serve_health_api

    print(f"health API on http://{args.host}:{args.port}/api/v1/ serving {args.data}", flush=True)
    serve_health_api(args.data, args.token or HEALTH_TOKEN, args.host, args.port)
