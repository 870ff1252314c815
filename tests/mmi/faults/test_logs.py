"""No personal data, token or password in what the commands print or log, failures included.

A PostgreSQL store whose URL carries a password; an ingest that fails on a unique constraint over ID numbers (the
kind of failure whose message once carried ~1,900 rows), then the demo's flow: ingest, link, publish, a token,
status. Every line any of them wrote (stdout and stderr, with -v logging) is searched for the feed's ID numbers,
the tokens printed and the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from mmi.store.tables import source_record
from tests.mmi.faults.conftest import finished, mmi, write_config

PASSWORD = "secret"  # trust auth accepts any password: only its appearance is tested


@pytest.mark.postgres
@pytest.mark.slow
def test_no_id_number_token_or_password_in_any_output(feeds: Path, postgres_schema_url: str) -> None:
    url = make_url(postgres_schema_url).set(password=PASSWORD).render_as_string(hide_password=False)
    assert PASSWORD in url
    config = write_config(feeds, url)
    outputs: list[str] = []

    def run(*args: str, expect: int | None = 0) -> str:
        code, output = finished(mmi(config, "-v", *args))
        assert expect is None or code == expect, output
        outputs.append(output)
        return output

    run("migrate")
    store = create_engine(url)
    with store.begin() as connection:  # one person registered with two departments now breaks the second's ingest
        connection.execute(text("CREATE UNIQUE INDEX one_record_per_id_number ON source_record (id_number)"))
    failed = run("ingest", "--one-at-a-time", expect=None)
    assert "one_record_per_id_number" in failed and "refused the operation" in failed, failed  # it did fail, on that
    with store.begin() as connection:
        connection.execute(text("DROP INDEX one_record_per_id_number"))
    run("ingest", "--one-at-a-time")
    run("link")
    run("publish")
    tokens = []
    for role, subject in (("subscriber", "zhengzhou-health"), ("steward", "zhang")):
        code, output = finished(mmi(config, "token", "--role", role, "--subject", subject))
        assert code == 0, output
        tokens.append(output.strip().splitlines()[-1])  # printed on purpose: its own output is not searched
    run("status")

    with store.connect() as connection:
        id_numbers = set(connection.execute(select(source_record.c.id_number).where(source_record.c.id_number.is_not(None))).scalars())
    store.dispose()
    assert len(id_numbers) > 100
    printed = "\n".join(outputs)
    assert PASSWORD not in printed.replace("password=***", "")
    assert not [token for token in tokens if token in printed]
    leaked = sorted(number for number in id_numbers if number in printed)
    assert not leaked, f"{len(leaked)} ID numbers of the feed printed"
