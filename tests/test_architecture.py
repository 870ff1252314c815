"""The layers point one way (docs/architecture.md): dags → service (mmi) → libraries (connectors, linkage) → schemas.

Imports are read from the source (ast), every one of them: at the top, inside functions, under TYPE_CHECKING.
- the libraries import schemas/ and third-party code only (connectors and linkage do not import each other);
- schemas/ imports no other package of the project;
- the service (mmi) imports no development tool (the generator, the local health API, the demo), no benchmark,
  no test and no DAG file.
The checker is shown to fail: on a planted upward import in a copy of the tree, and on a synthetic tree.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from devtools import REPOSITORY

PROJECT = {"mmi", "connectors", "linkage", "schemas", "synthetic", "devtools", "bench", "tests", "dags", "mmi_shared"}
MAY_IMPORT = {  # package → the project's packages it may import (besides itself); anything else of PROJECT is refused
    "schemas": set(),
    "connectors": {"schemas"},
    "linkage": {"schemas"},
    "mmi": {"schemas", "connectors", "linkage"},
}


def imported_packages(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the file; relative imports are inside `package`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, package if node.level else (node.module or "").split(".")[0]))
    return found


def violations(root: Path) -> list[str]:
    """Every import in `root`'s layered packages that points where its layer may not look, as 'file:line: what'."""
    found = []
    for package, allowed in MAY_IMPORT.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, imported in imported_packages(path, package):
                if imported in PROJECT and imported != package and imported not in allowed:
                    found.append(f"{path.relative_to(root)}:{line}: {package} imports {imported}")
    return found


def test_the_layers_point_one_way() -> None:
    assert violations(REPOSITORY) == []


def test_every_layer_is_checked() -> None:
    for package in MAY_IMPORT:
        assert len(list((REPOSITORY / package).rglob("*.py"))) > 3, package


def test_a_planted_upward_import_in_a_copy_of_the_tree_fails(tmp_path: Path) -> None:
    for package in MAY_IMPORT:
        shutil.copytree(REPOSITORY / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    model = tmp_path / "linkage" / "model.py"
    lines = model.read_text(encoding="utf-8").splitlines()
    model.write_text("\n".join([*lines, "", "def _settings():", "    from mmi.config import load_settings", ""]), encoding="utf-8")
    demo = tmp_path / "mmi" / "cli.py"
    demo.write_text(demo.read_text(encoding="utf-8") + "\nimport devtools.demo\n", encoding="utf-8")
    assert violations(tmp_path) == [
        f"linkage/model.py:{len(lines) + 3}: linkage imports mmi",
        f"mmi/cli.py:{len(demo.read_text(encoding='utf-8').splitlines())}: mmi imports devtools",
    ]


@pytest.mark.parametrize(
    ("file", "source", "message"),
    [
        ("connectors/x.py", "from mmi.errors import SourceError\n", "connectors imports mmi"),
        (
            "connectors/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mmi.config import Settings\n",
            "connectors imports mmi",
        ),
        ("connectors/x.py", "from linkage.standardise.record import RawPerson\n", "connectors imports linkage"),
        ("linkage/x.py", "import mmi.store.tables as tables\n", "linkage imports mmi"),
        ("schemas/x.py", "from connectors.registry import DEPARTMENTS\n", "schemas imports connectors"),
        ("mmi/x.py", "def run():\n    from synthetic import generate_feeds\n", "mmi imports synthetic"),
        ("mmi/x.py", "from devtools.demo import run_demo\n", "mmi imports devtools"),
        ("mmi/x.py", "from tests.helpers import current_records\n", "mmi imports tests"),
    ],
)
def test_the_checker_refuses_each_kind_of_upward_import(tmp_path: Path, file: str, source: str, message: str) -> None:
    for package in MAY_IMPORT:
        (tmp_path / package).mkdir()
        (tmp_path / package / "ok.py").write_text(
            "import json\nfrom schemas.canonical import PersonRecord\nfrom . import sibling\n", encoding="utf-8"
        )
    (tmp_path / file).write_text(source, encoding="utf-8")
    found = violations(tmp_path)
    assert [entry.split(": ", 1)[1] for entry in found] == [message], found
    assert found[0].startswith(file + ":")


def test_the_wheel_ships_the_service_only() -> None:
    import tomllib

    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(packages) == set(MAY_IMPORT)
    assert all(not script.startswith(("devtools", "synthetic")) for script in pyproject["project"]["scripts"].values())
