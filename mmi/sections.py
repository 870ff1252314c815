"""One way to read a table of the config file into its typed section: the same checks for every section.

Every section is a frozen dataclass (the sources' are declared in their connector folders, the others beside the
code that uses them). `read_section` takes the table as TOML gave it and:
- refuses a key the dataclass does not have, naming the key, the section and the keys it accepts;
- refuses a missing required key, naming it (and its environment variable, where it has one);
- takes a field's environment variable before the file (`setting(env=...)`: secrets and addresses);
- resolves paths (`kind="path"`, and every `Path` field) and SQLite URLs (`kind="url"`) against the config's
  folder, defaults included: the one path resolver;
- converts numbers and checks types, naming the key when a value is of the wrong kind.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from schemas.errors import ConfigError

T = TypeVar("T")
README = "see README, 'Configuration'"


def read_section(cls: type[T], table: Any, where: str, base: Path) -> T:
    """An instance of the dataclass `cls` from the TOML table `table` (None: absent) of section `where`."""
    table = {} if table is None else table
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table of keys ({README})")
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}  # type: ignore[arg-type]
    check_keys(table, fields, where)
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, field in fields.items():
        env = field.metadata.get("env")
        value = (os.environ.get(env) if env else None) or table.get(name, dataclasses.MISSING)
        if value is dataclasses.MISSING:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                also = f", or set {env}" if env else ""
                raise ConfigError(f"the config needs '{where}.{name}'{also} ({README})", location=f"[{where}] {name}")
            if field.default is None or field.default is dataclasses.MISSING or not _resolved(field, hints[name]):
                continue
            value = field.default  # a relative default path is relative to the config's folder too
        values[name] = _convert(value, hints[name], field, f"[{where}] {name}", base)
    return cls(**values)


def check_keys(table: dict[str, Any], accepted: typing.Iterable[str], where: str) -> None:
    """ConfigError naming every key of `table` that is not `accepted`, the section, and the keys it takes."""
    accepted = sorted(accepted)
    if unknown := [key for key in table if key not in accepted]:
        raise ConfigError(
            f"[{where}] has unknown keys {sorted(unknown)}: it takes {accepted} ({README})", location=f"[{where}] {unknown[0]}"
        )


def resolve_path(value: str | Path, base: Path) -> Path:
    """A path from the config: relative to the config file's folder."""
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def resolve_url(url: str, base: Path) -> str:
    """A SQLAlchemy URL from the config: a SQLite file's relative path is taken relative to the config's folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        database = Path(parsed.database)
        if not database.is_absolute():
            return parsed.set(database=str((base / database).resolve())).render_as_string(hide_password=False)
    return url


def _resolved(field: dataclasses.Field[Any], hint: Any) -> bool:
    return field.metadata.get("kind") in ("path", "url") or _plain(hint) is Path


def _plain(hint: Any) -> Any:
    """`X | None` → X."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        [inner] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return inner
    return hint


def _convert(value: Any, hint: Any, field: dataclasses.Field[Any], what: str, base: Path) -> Any:
    kind, target = field.metadata.get("kind"), _plain(hint)
    if kind == "url":
        return resolve_url(_text(value, what), base)
    if kind == "path" or target is Path:
        return resolve_path(value if isinstance(value, Path) else _text(value, what), base)
    if target is str:
        return _text(value, what)
    if target in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{what} = {value!r}: give a number")
        try:
            return target(value)
        except ValueError:
            raise ConfigError(f"{what} = {value!r}: give a number") from None
    if target is bool and not isinstance(value, bool):
        raise ConfigError(f"{what} = {value!r}: give true or false")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} = {value!r}: give a string")
    return value
