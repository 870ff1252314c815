"""The local health API serves the .jsonl files exactly as FEEDS.md section 4 describes the real one."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from synthetic import HEALTH_TOKEN, generate_delta, generate_feeds, start_health_api

AUTH = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


@pytest.fixture
def api(feeds: tuple[Path, dict[str, Any]]) -> Iterator[tuple[httpx.Client, Path]]:
    data_dir = feeds[0] / "health"
    server, base_url = start_health_api(data_dir)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client, data_dir
    server.shutdown()
    server.server_close()


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _all(client: httpx.Client, stream: str, headers: dict[str, str] = AUTH, **params: Any) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        page = client.get(f"/api/v1/{stream}", params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next_page_token"}
        items += body["items"]
        token = body["next_page_token"]
        if token is None:
            return items


@pytest.mark.parametrize("stream", ["persons", "services"])
def test_paging_through_everything_gives_the_file_in_order(api: tuple[httpx.Client, Path], stream: str) -> None:
    client, data_dir = api
    assert _all(client, stream, page_size=7) == _lines(data_dir / f"{stream}.jsonl")
    assert _all(client, stream) == _lines(data_dir / f"{stream}.jsonl")  # default page size


def test_updated_since_is_inclusive_and_timezone_aware(api: tuple[httpx.Client, Path]) -> None:
    client, data_dir = api
    items = _lines(data_dir / "persons.jsonl")
    pivot = items[len(items) // 2]["updated_at"]
    expected = [i for i in items if dt.datetime.fromisoformat(i["updated_at"]) >= dt.datetime.fromisoformat(pivot)]
    assert _all(client, "persons", updated_since=pivot, page_size=5) == expected
    as_utc = dt.datetime.fromisoformat(pivot).astimezone(dt.UTC).isoformat()
    assert _all(client, "persons", updated_since=as_utc) == expected
    assert _all(client, "persons", updated_since="2999-01-01T00:00:00+08:00") == []


def test_the_token_is_required(api: tuple[httpx.Client, Path]) -> None:
    client, _ = api
    missing = client.get("/api/v1/persons")
    wrong = client.get("/api/v1/persons", headers={"Authorization": "Bearer nope"})
    for response in (missing, wrong):
        assert response.status_code == 401 and "error" in response.json()


@pytest.mark.parametrize(
    "query", [{"page_size": 0}, {"page_size": 1001}, {"page_size": "x"}, {"page_token": "%%%"}, {"updated_since": "yesterday"}]
)
def test_bad_parameters_are_400(api: tuple[httpx.Client, Path], query: dict[str, Any]) -> None:
    client, _ = api
    assert client.get("/api/v1/services", params=query, headers=AUTH).status_code == 400


def test_other_paths_are_404(api: tuple[httpx.Client, Path]) -> None:
    client, _ = api
    assert client.get("/api/v1/people", headers=AUTH).status_code == 404
    assert client.get("/persons", headers=AUTH).status_code == 404


def test_injected_faults(feeds: tuple[Path, dict[str, Any]]) -> None:
    server, base_url = start_health_api(feeds[0] / "health", rate_limit_every=2, error_every=3, fail_first=1)
    try:
        statuses = [httpx.get(f"{base_url}/api/v1/persons", headers=AUTH) for _ in range(6)]
    finally:
        server.shutdown()
        server.server_close()
    assert [r.status_code for r in statuses] == [500, 429, 503, 429, 200, 429]
    assert statuses[1].headers["Retry-After"] == "1"


def test_lines_that_are_not_json_are_served_as_strings(tmp_path: Path) -> None:
    good = {"event_id": "EV1", "updated_at": "2026-01-01T08:00:00+08:00"}
    later = {"event_id": "EV2", "updated_at": "2026-01-02T08:00:00+08:00"}
    (tmp_path / "services.jsonl").write_text(f"{json.dumps(good)}\n{{broken\n{json.dumps(later)}\n", encoding="utf-8")
    server, base_url = start_health_api(tmp_path)
    try:
        with httpx.Client(base_url=base_url) as client:
            assert _all(client, "services", page_size=1) == [good, "{broken", later]
            assert _all(client, "persons") == []  # no file yet: nothing to serve
    finally:
        server.shutdown()
        server.server_close()


def test_a_delta_is_served_without_restart(tmp_path: Path) -> None:
    generate_feeds(tmp_path, 80, seed=3)
    server, base_url = start_health_api(tmp_path / "health")
    try:
        with httpx.Client(base_url=base_url) as client:
            before = _all(client, "persons")
            last = before[-1]["updated_at"]
            generate_delta(tmp_path, seed=1, fraction=0.2)
            after = _all(client, "persons")
            assert after[: len(before)] == before and len(after) > len(before)
            since = _all(client, "persons", updated_since=last)
            assert since[0]["updated_at"] == last and since[-(len(after) - len(before)) :] == after[len(before) :]
    finally:
        server.shutdown()
        server.server_close()


def test_it_serves_the_shared_sample(samples: Path, tmp_path: Path) -> None:
    shutil.copytree(samples / "health", tmp_path / "health")
    server, base_url = start_health_api(tmp_path / "health", token="t")
    try:
        with httpx.Client(base_url=base_url) as client:
            items = _all(client, "services", headers={"Authorization": "Bearer t"}, page_size=10)
        assert items == _lines(samples / "health" / "services.jsonl")
    finally:
        server.shutdown()
        server.server_close()
