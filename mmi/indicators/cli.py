"""The `mmi indicators` and `mmi worklist` commands (registered by mmi.cli): the library's rows as CSV files."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from schemas.errors import ConfigError


def add_indicator_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command("indicators", _indicators, "the equalization indicators as of a date, by area, as CSV")
    sub.add_argument("--as-of", required=True, type=_date, help="the date A (YYYY-MM-DD)")
    sub.add_argument("--level", choices=("district", "city", "province"), help="one level (default: every level); `all` is always there")
    sub.add_argument("--indicator", action="append", help="only this indicator (repeatable; default: all)")
    sub.add_argument("--out", required=True, type=Path)
    sub = command("worklist", _worklist, "the persons an indicator counts who were not served, longest due first, as CSV")
    sub.add_argument("--indicator", required=True)
    sub.add_argument("--area", required=True, help="a district, city or province code prefix, or 'all'")
    sub.add_argument("--as-of", required=True, type=_date, help="the date A (YYYY-MM-DD)")
    sub.add_argument("--out", required=True, type=Path)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from mmi.config import load_settings
    from mmi.store.database import open_store

    settings = load_settings(args.config)
    return settings, open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds)


def _indicators(args: argparse.Namespace) -> None:
    from mmi.indicators import COLUMNS, compute_indicators, write_csv

    settings, engine = _store(args)
    levels = (args.level,) if args.level else ("district", "city", "province")
    rows = compute_indicators(
        engine,
        as_of=args.as_of,
        levels=levels,
        indicator_ids=args.indicator,
        match_threshold=settings.linkage.match_threshold,
        review_threshold=settings.linkage.review_threshold,
    )
    count = write_csv(rows, COLUMNS, args.out)
    print(f"wrote {count} indicator rows (definitions {rows[0].definition_version if rows else '?'}) to {args.out}")


def _worklist(args: argparse.Namespace) -> None:
    from mmi.indicators import WORKLIST_COLUMNS, compute_worklist, write_csv

    _settings, engine = _store(args)
    if not args.area:
        raise ConfigError("--area: give a district, city or province code prefix, or 'all'")
    rows = compute_worklist(engine, indicator_id=args.indicator, as_of=args.as_of, area_prefix=args.area)
    count = write_csv(rows, WORKLIST_COLUMNS, args.out)
    print(f"wrote {count} persons due {args.indicator} in {args.area} as of {args.as_of} to {args.out}")
