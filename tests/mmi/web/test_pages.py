"""The pages over real HTTP on a real index (SQLite and PostgreSQL): every item renders in both languages with
its records, explanation or graph, the queue's filters and jurisdiction hold, and decisions made through the
forms are the service's decisions."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmi.index import link_index
from mmi.principal import Principal
from mmi.review import get_decision, item_detail, queue_page
from tests.conftest import fresh_postgres_schema
from tests.mmi.web.server import Served, csrf_of, serve
from tests.mmi.web.workbench import build_index

STEWARD = Principal("li.steward", "steward")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[Served]:
    """One index per backend for the module (built once: ~10 s); tests that decide take items no other test uses."""
    out = tmp_path_factory.mktemp(f"pages-{request.param}")
    with contextlib.ExitStack() as stack:  # a PostgreSQL store's schema is dropped at the end
        url = stack.enter_context(fresh_postgres_schema(postgres_problem)) if request.param == "postgresql" else None
        settings, engine = build_index(out / "feeds", url, people=1000)
        try:
            with serve(out, settings.store_url, engine) as running:
                running.index_settings = settings
                yield running
        finally:
            engine.dispose()


def _switch(browser, language: str) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get("/ui/signin").text)
    assert browser.post("/ui/language", data={"lang": language, "next": "/ui/queue", "csrf_token": token}).status_code == 303


def test_the_queue_page_lists_the_services_queue_in_its_order(served: Served) -> None:
    expected = queue_page(served.engine, STEWARD, limit=50)
    assert expected.total > 0
    with served.browsing() as browser:
        page = browser.get("/ui/queue")
    assert page.status_code == 200
    shown = [int(found) for found in re.findall(r'href="/ui/items/(\d+)\?', page.text)]
    assert shown == [item.id for item in expected.items]
    for item in expected.items:  # why each item has its priority
        assert f"{item.priority:.2f}" in page.text
        for factor in item.factors:
            assert factor.note.replace("'", "&#39;") in page.text


def test_every_item_renders_in_both_languages_with_what_a_steward_needs(served: Served) -> None:
    items = queue_page(served.engine, STEWARD, limit=100).items
    with served.browsing() as browser:
        for language in ("zh-CN", "en"):
            _switch(browser, language)
            for item in items:
                detail = item_detail(served.engine, STEWARD, item.id)
                page = browser.get(f"/ui/items/{item.id}?pos=0")
                assert page.status_code == 200, page.text
                assert f'<html lang="{language}">' in page.text
                for record in detail.records:
                    assert record.source_key in page.text
                if detail.explanation:
                    assert 'class="waterfall"' in page.text and f"{detail.explanation.match_weight:+.3f}" in page.text
                    assert 'action="/ui/items/' in page.text and 'value="match"' in page.text
                if detail.graph:
                    assert 'class="cluster"' in page.text and page.text.count('<line class="edge') == len(detail.graph.links)
                    assert 'name="split_mode"' in page.text
                if any(record.differing for record in detail.records):
                    assert 'class="differs"' in page.text


def test_filters_narrow_the_queue(served: Served) -> None:
    everything = queue_page(served.engine, STEWARD, limit=100).items
    kind = everything[0].kind
    with served.browsing() as browser:
        page = browser.get(f"/ui/queue?kind={kind}")
        bad = browser.get("/ui/queue?district=abc")
    shown = re.findall(r'<span class="badge kind-(\w+)">', page.text)
    assert shown and set(shown) == {kind}
    assert bad.status_code == 422


def test_a_steward_outside_the_jurisdiction_sees_none_of_the_records(served: Served) -> None:
    item = queue_page(served.engine, STEWARD, limit=1).items[0]
    with served.browsing("steward", "far.away", jurisdiction=("99",)) as browser:  # no district starts with 99
        queue = browser.get("/ui/queue")
        page = browser.get(f"/ui/items/{item.id}")
    assert queue.status_code == 200 and 'href="/ui/items/' not in queue.text
    assert page.status_code == 404
    for key in item.records:
        assert key.split("|")[1] not in queue.text + page.text


def test_an_auditor_reads_but_is_offered_no_decision(served: Served) -> None:
    item = queue_page(served.engine, STEWARD, limit=1).items[0]
    with served.browsing("auditor", "wang.auditor") as browser:
        page = browser.get(f"/ui/items/{item.id}")
        queue = browser.get("/ui/queue")
        refused = browser.post(f"/ui/items/{item.id}/decision", data={"csrf_token": csrf_of(page.text), "decision": "match", "reason": "x"})
    assert page.status_code == 200 and f"/ui/items/{item.id}/decision" not in page.text and 'id="decide-title"' not in page.text
    assert 'id="batch"' not in queue.text
    assert refused.status_code == 403


def test_a_decision_through_the_form_is_recorded_and_the_next_item_opens(served: Served) -> None:
    items = queue_page(served.engine, STEWARD, limit=100).items
    position, pair = next(
        (index, item)
        for index, item in enumerate(items)
        if item.kind in ("pair", "conflict", "invalidated") and item_detail(served.engine, STEWARD, item.id).graph is None
    )
    with served.browsing() as browser:
        page = browser.get(f"/ui/items/{pair.id}?pos={position}")
        empty = browser.post(
            f"/ui/items/{pair.id}/decision", data={"csrf_token": csrf_of(page.text), "decision": "not_match", "reason": " "}
        )
        done = browser.post(
            f"/ui/items/{pair.id}/decision",
            data={"csrf_token": csrf_of(page.text), "decision": "not_match", "reason": "不同人：身份号码不同", "pos": str(position)},
        )
        assert empty.status_code == 422
        assert done.status_code == 303 and done.headers["location"].startswith(f"/ui/queue/at?pos={position}")
        decision_id = int(re.search(r"decided=(\d+)", done.headers["location"]).group(1))  # type: ignore[union-attr]
        following = browser.get(done.headers["location"])
        assert following.status_code == 303
        shown = browser.get(following.headers["location"])
    decision = get_decision(served.engine, STEWARD, decision_id)
    assert decision.decision == "not_match" and decision.decided_by == "li.steward" and decision.reason == "不同人：身份号码不同"
    assert f"#{decision_id}" in shown.text
    assert item_detail(served.engine, STEWARD, pair.id).status == "resolved" or decision.status == "proposed"


def test_a_split_previewed_then_decided_names_the_groups(served: Served) -> None:
    clusters = [item for item in queue_page(served.engine, STEWARD, limit=100).items if item.kind == "cluster"]
    cluster = clusters[-1]
    records = cluster.records
    form = {
        "decision": "split",
        "split_mode": "groups",
        "record_key": records,
        "reason": "两人：出生日期不同",
        **{f"group:{key}": ("2" if index == 0 else "1") for index, key in enumerate(records)},
    }
    with served.browsing() as browser:
        page = browser.get(f"/ui/items/{cluster.id}")
        form["csrf_token"] = csrf_of(page.text)
        preview = browser.post(f"/ui/items/{cluster.id}/preview", data=form)
        assert preview.status_code == 200 and 'class="preview"' in preview.text
        done = browser.post(f"/ui/items/{cluster.id}/decision", data=form)
    assert done.status_code == 303
    decision_id = int(re.search(r"decided=(\d+)", done.headers["location"]).group(1))  # type: ignore[union-attr]
    decision = get_decision(served.engine, STEWARD, decision_id)
    assert sorted(map(sorted, decision.groups)) == sorted([[records[0]], sorted(records[1:])])
    if decision.status == "accepted":  # not published: the next link run applies it, and the item says so
        assert served.index_settings is not None
        link_index(served.index_settings, served.engine)
        with served.browsing() as browser:
            page = browser.get(f"/ui/items/{cluster.id}")
        applied = get_decision(served.engine, STEWARD, decision_id)
        assert applied.applied_run_id is not None and applied.events
        assert f"已由第 {applied.applied_run_id} 次关联运行应用" in page.text
        assert all(f"#{event['seq']} " in page.text for event in applied.events)


def test_cookies_are_secure_behind_a_tls_proxy(served: Served) -> None:
    with served.client() as browser:
        response = browser.get(served.login_link(), headers={"X-Forwarded-Proto": "https"})
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("mmi_session="))
    assert "secure" in cookie.lower().split("; ")


def test_mmi_login_prints_a_link_that_signs_in(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mmi.cli import main

    config = tmp_path / "mmi.toml"
    config.write_text(f'[store]\nurl = "{served.settings.store_url}"\n[web]\npublic_url = "{served.base_url}"\n', encoding="utf-8")
    assert main(["login", "--config", str(config), "--role", "steward", "--subject", "chen.steward", "--jurisdiction", "4101,44"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith(f"{served.base_url}/ui/login?code=")
    with served.client() as browser:
        assert browser.get(link).status_code == 303
        page = browser.get("/ui/queue")
    assert "chen.steward" in page.text and "4101, 44" in page.text
    assert main(["login", "--config", str(config), "--role", "steward", "--subject", "x", "--jurisdiction", "abc"]) == 2


def test_several_items_decided_at_once_from_the_queue(served: Served) -> None:
    pairs = [item for item in queue_page(served.engine, STEWARD, limit=100).items if item.kind == "pair"][:2]  # leave some for later
    assert pairs, "the generated index should still hold a pair in the review band"
    with served.browsing() as browser:
        queue = browser.get("/ui/queue")
        done = browser.post(
            "/ui/queue/decide",
            data={
                "csrf_token": csrf_of(queue.text),
                "decision": "not_match",
                "reason": "批量：身份号码不同",
                "item": [str(item.id) for item in pairs],
            },
        )
    assert done.status_code == 303
    decisions = [d for d in _all_decisions(served) if d.item_id in {item.id for item in pairs}]
    assert len(decisions) == len(pairs) and {d.reason for d in decisions} == {"批量：身份号码不同"}


def _all_decisions(served: Served) -> list:  # type: ignore[type-arg]
    from mmi.review import list_decisions

    return list_decisions(served.engine, STEWARD, None, limit=500).items


def test_a_proposal_is_refused_to_its_proposer_and_rejected_by_another_steward(served: Served) -> None:
    decided = {d.item_id for d in _all_decisions(served)}
    published = [
        item
        for item in queue_page(served.engine, STEWARD, limit=100).items
        if item.kind in ("pair", "conflict") and item.id not in decided and item_detail(served.engine, STEWARD, item.id).published_to
    ]
    assert published, "the generated index should hold a published pair that no other test decided"
    cluster = published[0]
    with served.browsing() as proposer:
        page = proposer.get(f"/ui/items/{cluster.id}")
        done = proposer.post(
            f"/ui/items/{cluster.id}/decision",
            data={"csrf_token": csrf_of(page.text), "decision": "match", "reason": "同一人：合并两个已下发的主索引号"},
        )
        decision_id = int(re.search(r"decided=(\d+)", done.headers["location"]).group(1))  # type: ignore[union-attr]
        assert get_decision(served.engine, STEWARD, decision_id).status == "proposed"
        listing = proposer.get("/ui/decisions?status=proposed")
        assert f'action="/ui/decisions/{decision_id}/approve"' not in listing.text  # no button for one's own proposal
        own = proposer.post(f"/ui/decisions/{decision_id}/approve", data={"csrf_token": csrf_of(listing.text)})
        assert own.status_code == 403
    with served.browsing("steward", "zhao.steward") as reviewer:
        listing = reviewer.get("/ui/decisions?status=proposed")
        assert f'action="/ui/decisions/{decision_id}/approve"' in listing.text
        rejected = reviewer.post(f"/ui/decisions/{decision_id}/reject", data={"csrf_token": csrf_of(listing.text), "reason": "证据不足"})
        assert rejected.status_code == 303
        again = reviewer.post(f"/ui/decisions/{decision_id}/approve", data={"csrf_token": csrf_of(listing.text)})
        assert again.status_code == 409
    decision = get_decision(served.engine, STEWARD, decision_id)
    assert decision.status == "rejected" and decision.reviewed_by == "zhao.steward"
    assert item_detail(served.engine, STEWARD, cluster.id).status == "open"
