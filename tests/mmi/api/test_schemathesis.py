"""schemathesis, every check, over every route of the document `mmi serve` serves (/openapi.json): no server error,
no status or body the document does not describe, for each role's token.

The server is the real command (`mmi serve`, uvicorn in a process of its own) over a small index that was
ingested, linked and published (devtools.served.build_index), on SQLite and on PostgreSQL; tokens come from the
real `mmi token`. Routes added later are tested as soon as they are in the document. The examples per route are
bounded (`--max-examples`, a fixed seed) so the whole module takes about two minutes on a loaded machine.
The rate limit is set high here: a 429 is documented, but this test is about the routes, not about the budget
(tests/mmi/api/test_hardening.py floods it on purpose).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.served import Serving, build_index, mmi_serve, serve_config
from tests.conftest import fresh_postgres_schema

HERE = Path(__file__).parent
MMI = str(Path(sys.executable).with_name("mmi"))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
ROLES = {"admin": "ops", "steward": "li.steward", "auditor": "wang.auditor", "subscriber": "zhengzhou-health", "planner": "zhou.planner"}

pytestmark = pytest.mark.slow


class Served:
    def __init__(self, serving: Serving, config: Path, backend: str) -> None:
        self.serving, self.config, self.backend = serving, config, backend

    def token(self, role: str) -> str:
        command = [MMI, "token", "--config", str(self.config), "--role", role, "--subject", ROLES[role]]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[Served]:
    out = tmp_path_factory.mktemp(f"schemathesis-{request.param}")
    with contextlib.ExitStack() as stack:  # a PostgreSQL store's schema is dropped at the end
        url = stack.enter_context(fresh_postgres_schema(postgres_problem)) if request.param == "postgresql" else None
        settings, engine = build_index(out / "feeds", url, people=150)
        engine.dispose()
        config = serve_config(settings, rate_limit_per_second=100000.0, rate_limit_burst=100000)
        subprocess.run([MMI, "keys", "--config", str(config)], capture_output=True, check=True)
        with mmi_serve(config) as serving:
            yield Served(serving, config, request.param)


def run_schemathesis(served: Served, role: str, examples: int, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{served.serving.base_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {served.token(role)}",
        "--max-examples",
        str(examples),
        "--seed",
        "14",
        "--workers",  # one: under Python 3.11, hypothesis' ast.parse in two threads at once can raise SystemError
        "1",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    # Run in the report's temporary folder: schemathesis keeps its example cache (.schemathesis/) in the working directory.
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=report.parent)


# Every role on SQLite. On PostgreSQL (where an overflow is the driver's 500, and change-set numbers are 32-bit) the
# admin, who reaches every route, and a subscriber, whose requests reach the store without naming a subscription.
@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_nothing_on_any_route(served: Served, role: str, tmp_path: Path) -> None:
    if served.backend == "postgresql" and role not in ("admin", "subscriber"):
        pytest.skip("PostgreSQL: the admin's and the subscriber's runs cover every route; the other roles run on SQLite")
    report = tmp_path / "junit.xml"
    result = run_schemathesis(served, role, 8 if role == "admin" else 3, report)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    tested = output[output.index("API Operations:") :].split("Tested:")[1].split()[0]
    selected = output[output.index("Selected:") :].split()[1]
    assert tested == selected.split("/")[0] == selected.split("/")[1], f"not every route of the document was tested:\n{output[-3000:]}"
    assert report.read_text(encoding="utf-8").count("<testcase") >= 16  # the routes of today; more as they land
    assert "server error" not in output.lower().replace("not_a_server_error", "")
