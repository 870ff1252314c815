"""The workbench over real HTTP (uvicorn on a free port), on SQLite and PostgreSQL: roles and tokens, the JSON
contract, four eyes on a published master through to the next `mmi link` and a full one, a changed record
re-raised as invalidated, and a steward outside the jurisdiction seeing none of its records."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from mmi.api import api_settings, create_app, ensure_keys, issue_token
from mmi.api.settings import ApiSettings
from mmi.exchange import publish
from mmi.index import link_index
from tests.mmi.api.conftest import free_port
from tests.mmi.api.tokens import claims, foreign, signed
from tests.mmi.review.helpers import change_public_security_row, cluster_to_split, false_merges, masters, truth


@contextlib.contextmanager
def serving(state) -> Iterator[tuple[str, ApiSettings]]:  # type: ignore[no-untyped-def]
    api = api_settings(state.settings)
    ensure_keys(api)
    server = uvicorn.Server(
        uvicorn.Config(create_app(state.settings, state.engine), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}", api
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Client:
    def __init__(self, base: str, token: str | None) -> None:
        self.base, self.headers = base, ({"Authorization": f"Bearer {token}"} if token else {})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers, params=params, timeout=30)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.base + path, headers=self.headers, json=body, timeout=60)


def test_roles_and_tokens(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    with serving(state) as (base, api):
        item = Client(base, issue_token(api, "steward", "s")).get("/v1/review/queue").json()["items"][0]
        reads = [("GET", "/v1/review/queue"), ("GET", f"/v1/review/items/{item['id']}"), ("GET", "/v1/review/decisions")]
        writes = [("POST", f"/v1/review/items/{item['id']}/decision"), ("POST", "/v1/review/decisions/1/approve")]
        body = {"decision": "not_match", "reason": "test"}
        for method, path in reads + writes:
            for token in (
                None,
                "not-a-token",
                foreign(claims(api, role="steward")),
                signed(api, claims(api, role="steward", exp=int(time.time()) - 60)),
            ):
                response = httpx.request(
                    method, base + path, headers={"Authorization": f"Bearer {token}"} if token else {}, json=body, timeout=10
                )
                assert response.status_code == 401, (method, path, token, response.text)
            subscriber = Client(base, issue_token(api, "subscriber", "zhengzhou-health"))
            assert (subscriber.get(path) if method == "GET" else subscriber.post(path, body)).status_code == 403
        for role in ("auditor", "admin"):
            reader = Client(base, issue_token(api, role, f"{role}-1"))
            assert all(reader.get(path).status_code == 200 for _method, path in reads)
            assert reader.post(writes[0][1], body).status_code == 403


def test_the_json_contract(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    with serving(state) as (base, api):
        steward = Client(base, issue_token(api, "steward", "s"))
        page = steward.get("/v1/review/queue", limit=3, offset=0).json()
        assert set(page) >= {"items", "total"} and len(page["items"]) == 3 and page["total"] > 3
        for item in page["items"]:
            assert set(item) >= {"id", "kind", "records", "masters", "match_probability", "priority", "reason"}
            assert all("|" in key for key in item["records"])
        assert steward.get("/v1/review/queue", limit=3, offset=3).json()["items"][0]["id"] not in {i["id"] for i in page["items"]}
        pair = steward.get("/v1/review/queue", kind="pair").json()["items"][0]
        detail = steward.get(f"/v1/review/items/{pair['id']}").json()
        assert set(detail) >= {"records", "explanation", "masters", "published_to"}
        assert all(set(record) >= {"key", "fields", "raw", "quality_flags"} for record in detail["records"])
        assert set(detail["explanation"]) >= {"prior_weight", "comparisons", "match_weight", "match_probability", "model_version"}
        assert all(set(c) >= {"name", "level", "weight", "tf_weight"} for c in detail["explanation"]["comparisons"])
        assert steward.get("/v1/review/queue", kind="nonsense").status_code == 422
        assert steward.get("/v1/review/items/999999").status_code == 404
        assert steward.post(f"/v1/review/items/{pair['id']}/decision", {"decision": "split", "reason": "x"}).status_code == 422
        created = steward.post(f"/v1/review/items/{pair['id']}/decision", {"decision": "match", "reason": "same person"})
        assert created.status_code == 201 and set(created.json()) >= {"id", "status"}
        listed = steward.get("/v1/review/decisions", status=created.json()["status"]).json()
        assert created.json()["id"] in {d["id"] for d in listed["items"]}
        assert steward.post(f"/v1/review/items/{pair['id']}/decision", {"decision": "match", "reason": "again"}).status_code == 409


def test_four_eyes_over_http_then_the_next_link_applies_it_and_a_full_one_keeps_it(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    publish(state.settings, state.engine)
    people = truth(state.feeds)
    wrong = false_merges(state.engine, people)
    with serving(state) as (base, api):
        a, b = Client(base, issue_token(api, "steward", "steward-a")), Client(base, issue_token(api, "steward", "steward-b"))
        clusters = a.get("/v1/review/queue", kind="cluster", limit=500).json()["items"]
        item, split_groups = cluster_to_split(clusters, wrong, people, masters(state.engine))
        detail = a.get(f"/v1/review/items/{item['id']}").json()
        assert detail["published_to"] and detail["graph"]["nodes"]
        groups = {str(number): group for number, group in enumerate(split_groups)}
        body = {"decision": "split", "reason": "twins: two valid ID numbers", "groups": list(groups.values())}
        preview = a.post(f"/v1/review/items/{item['id']}/preview", body).json()
        assert preview["needs_approval"] and preview["kept"] == item["masters"]
        created = a.post(f"/v1/review/items/{item['id']}/decision", body)
        assert created.status_code == 201 and created.json()["status"] == "proposed"
        decision = created.json()["id"]
        assert decision in {d["id"] for d in a.get("/v1/review/decisions", status="proposed").json()["items"]}
        assert a.post(f"/v1/review/decisions/{decision}/approve").status_code == 403
        approved = b.post(f"/v1/review/decisions/{decision}/approve", {"reason": "agreed"})
        assert approved.status_code == 200 and approved.json()["status"] == "accepted"
        run = link_index(state.settings, state.engine)  # what `mmi link` runs
        split = masters(state.engine)
        assert all(any(set(group) == records for records in split.values()) for group in groups.values())
        shown = a.get(f"/v1/review/decisions/{decision}").json()
        assert shown["applied_run_id"] == run.run_id and shown["events"] and shown["reviewed_by"] == "steward-b"
        assert link_index(state.settings, state.engine, full=True).mode == "full"
        assert masters(state.engine) == split
        assert item["id"] not in {i["id"] for i in a.get("/v1/review/queue", limit=500).json()["items"]}


def test_a_changed_record_is_re_raised_as_invalidated_over_http(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    with serving(state) as (base, api):
        steward = Client(base, issue_token(api, "steward", "steward-a"))
        pair = next(
            item
            for item in steward.get("/v1/review/queue", kind="pair", limit=500).json()["items"]
            if any(key.startswith("public_security|") for key in item["records"])
        )
        decision = steward.post(f"/v1/review/items/{pair['id']}/decision", {"decision": "not_match", "reason": "different people"}).json()
        record = next(key for key in pair["records"] if key.startswith("public_security|"))
        change_public_security_row(state.feeds, record.partition("|")[2], "13700000000")
        state.ingest()
        link_index(state.settings, state.engine)
        invalidated = steward.get("/v1/review/queue", kind="invalidated").json()["items"]
        assert [item["decision_id"] for item in invalidated] == [decision["id"]]
        assert steward.get(f"/v1/review/decisions/{decision['id']}").json()["status"] == "accepted"


def test_a_steward_outside_the_jurisdiction_sees_none_of_its_records(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    with serving(state) as (base, api):
        everywhere = Client(base, issue_token(api, "steward", "national"))
        items = everywhere.get("/v1/review/queue", limit=500).json()["items"]
        prefix = items[0]["districts"][0][:2]
        outside = [item for item in items if not all(d.startswith(prefix) for d in item["districts"])]
        local = Client(base, issue_token(api, "steward", "local", jurisdiction=(prefix,)))
        seen = local.get("/v1/review/queue", limit=500).json()
        assert seen["total"] == len(items) - len(outside) > 0
        assert all(d.startswith(prefix) for item in seen["items"] for d in item["districts"])
        for item in outside:
            assert local.get(f"/v1/review/items/{item['id']}").status_code == 404
            assert local.post(f"/v1/review/items/{item['id']}/decision", {"decision": "match", "reason": "x"}).status_code == 404
        elsewhere = Client(base, issue_token(api, "steward", "elsewhere", jurisdiction=("99",)))
        assert elsewhere.get("/v1/review/queue").json() == {"items": [], "total": 0}
