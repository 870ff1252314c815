"""Pulling change sets over HTTP as a department would: list, download, read, acknowledge, replay."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
from sqlalchemy import select

from mmi.api import issue_token
from mmi.exchange import exchange_settings
from mmi.store.exchange_tables import changeset_download
from tests.mmi.api.conftest import RunningApi
from tests.mmi.exchange.readers import read_apache_avro, read_fastavro

ROOT = Path(__file__).resolve().parents[3]


def client(running: RunningApi, subscriber: str = "zhengzhou-health") -> httpx.Client:
    token = issue_token(running.api, "subscriber", subscriber)
    return httpx.Client(base_url=running.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_subscriber_pulls_acknowledges_and_resumes(running_api: RunningApi) -> None:
    with client(running_api) as http:
        listing = http.get("/v1/changesets").json()
        assert listing["subscriber"] == "zhengzhou-health" and listing["acknowledged"]["seq"] == 0
        assert [item["seq"] for item in listing["items"]] == [1, 2] and listing["latest"] == 2  # 4 events, 2 a file
        events = []
        for item in listing["items"]:
            response = http.get(item["href"])
            assert response.status_code == 200 and response.headers["content-type"] == "application/avro"
            assert hashlib.sha256(response.content).hexdigest() == item["sha256"] == response.headers["ETag"].strip('"')
            metadata, records = read_fastavro(response.content)
            assert int(metadata["mmi.sequence"]) == item["seq"] and len(records) == item["events"]
            assert [r["event_id"] for r in read_apache_avro(response.content)[1]] == [str(r["event_id"]) for r in records]
            events += records
            assert http.post(f"/v1/changesets/{item['seq']}/ack").json()["acknowledged"]["seq"] == item["seq"]
        assert sorted(e["person_after"]["current_district"] for e in events) == ["410102", "410105", "410105", "410171"]

        resumed = http.get("/v1/changesets").json()  # without ?after: from the acknowledged position
        assert resumed["acknowledged"]["seq"] == 2 and resumed["items"] == []
        replay = http.get("/v1/changesets", params={"after": 0}).json()
        assert [item["seq"] for item in replay["items"]] == [1, 2]
        again = http.get("/v1/changesets/1")
        assert again.status_code == 200 and hashlib.sha256(again.content).hexdigest() == replay["items"][0]["sha256"]

        assert http.post("/v1/changesets/1/ack").json()["acknowledged"]["seq"] == 2  # never moves back
        assert http.post("/v1/changesets/3/ack").status_code == 404
        assert http.get("/v1/changesets/3").status_code == 404
    with running_api.engine.connect() as connection:
        downloads = connection.execute(select(changeset_download.c.seq, changeset_download.c.subject)).all()
    assert sorted(downloads) == [(1, "zhengzhou-health"), (1, "zhengzhou-health"), (2, "zhengzhou-health")]


def test_positions_are_kept_per_subscriber(running_api: RunningApi) -> None:
    with client(running_api) as health, client(running_api, "guangdong-police") as police:
        health.post("/v1/changesets/2/ack")
        assert police.get("/v1/changesets").json()["acknowledged"]["seq"] == 0
        assert [item["seq"] for item in police.get("/v1/changesets").json()["items"]] == [1]


def test_a_tampered_file_is_refused_not_served(running_api: RunningApi) -> None:
    with client(running_api) as http:
        item = http.get("/v1/changesets").json()["items"][0]
        path = exchange_settings(running_api.settings).out_dir / "zhengzhou-health"
        [file] = [candidate for candidate in path.iterdir() if candidate.name.startswith("00000001-")]
        file.write_bytes(file.read_bytes()[:-1] + b"\x00")
        response = http.get(item["href"])
        assert response.status_code == 500 and "SHA-256" in response.json()["detail"]


def test_the_openapi_document_is_published(running_api: RunningApi) -> None:
    document = httpx.get(running_api.base_url + "/openapi.json", timeout=10).json()
    assert {"/v1/changesets", "/v1/changesets/{seq}", "/v1/changesets/{seq}/ack"} <= set(document["paths"])
    assert "application/avro" in document["paths"]["/v1/changesets/{seq}"]["get"]["responses"]["200"]["content"]
    assert any(scheme["scheme"] == "bearer" for scheme in document["components"]["securitySchemes"].values())


def test_the_committed_openapi_document_is_the_apis() -> None:
    """schemas/api/openapi.json is the contract as a file: regenerate it with `python -m mmi.api.openapi` when the API changes."""
    from mmi.api.app import openapi_document

    committed = json.loads((ROOT / "schemas" / "api" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document()
