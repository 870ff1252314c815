"""The auditors' pages over real HTTP and in a real browser, on SQLite and PostgreSQL, over a generated index that
was linked, published, downloaded from and had two masters merged (tests/mmi/api/audited.py).

HTTP: an auditor signs in by a one-time link and lands on the search; every page renders in both languages under
the CSP, with no inline script or style; each golden value links to its record version, whose page shows the
payload whose SHA-256 is the recorded one; the as-of view shows the merged-away master as it was; stewards get 403
and a subscriber's token opens no page; each page read is recorded (channel `page`); the log's page shows the
result of a real `mmi audit verify`. Browser (Playwright, Debian's chromium): search, a master's page, a record's
raw payload, the as-of view, without a console error (a CSP violation is one).
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mmi import provenance
from mmi.cli import main
from mmi.principal import Principal
from mmi.store.index_tables import master_record
from tests.mmi.api.audited import Audited, audited_index
from tests.mmi.api.tokens import claims, signed
from tests.mmi.web.server import csrf_of
from tests.mmi.web.test_browser import ARGS, CHROMIUM, DOCS_SCREENSHOTS, _need_chromium

AUDITOR = ("auditor", "audit.wang")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[Audited]:
    with audited_index(tmp_path_factory.mktemp(f"audit-pages-{request.param}"), request.param, postgres_problem) as index:
        yield index


def _pages(audited: Audited) -> list[str]:
    before = audited.before_merge.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return [
        "/ui/audit",
        f"/ui/audit/masters/{audited.survivor}",
        f"/ui/audit/masters/{audited.retired}?as_of={before}",
        f"/ui/audit/disclosures?master_id={audited.survivor}",
        "/ui/audit/log",
    ]


def test_an_auditor_signs_in_by_link_and_every_page_renders_in_both_languages(audited: Audited) -> None:
    with audited.served.engine.connect() as connection:
        name = connection.execute(select(master_record.c.name).where(master_record.c.master_id == audited.survivor)).scalar_one()
    with audited.served.client() as browser:
        landed = browser.get(audited.served.login_link(*AUDITOR))
        assert landed.status_code == 303 and landed.headers["location"] == "/ui/audit"
        for language in ("zh-CN", "en"):
            token = csrf_of(browser.get("/ui/audit").text)
            assert browser.post("/ui/language", data={"lang": language, "next": "/ui/audit", "csrf_token": token}).status_code == 303
            for path in _pages(audited):
                page = browser.get(path)
                assert page.status_code == 200, (language, path, page.text[:500])
                assert f'<html lang="{language}">' in page.text
                assert "unsafe-inline" not in page.headers["content-security-policy"]
                assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and " style=" not in page.text and "<style" not in page.text
                assert 'href="/ui/audit/log"' in page.text  # the nav links the auditor's pages
            for kind, terms in (("name", name[:1]), ("master_id", audited.survivor)):
                found = browser.post("/ui/audit", data={"kind": kind, "q": terms, "csrf_token": token})
                assert found.status_code == 200 and "/ui/audit/masters/" in found.text, (kind, found.text[:300])
        assert "As of (UTC)" in browser.get(f"/ui/audit/masters/{audited.survivor}").text


def test_each_golden_value_links_to_a_record_page_whose_payload_has_the_recorded_checksum(audited: Audited) -> None:
    with audited.served.browsing(*AUDITOR) as browser:
        page = browser.get(f"/ui/audit/masters/{audited.survivor}").text
        links = sorted(set(re.findall(r'class="source" href="(/ui/audit/records/[^"]+)"', page)))
        assert links
        for link in links:
            record = browser.get(html.unescape(link))
            assert record.status_code == 200, link
            shown = re.search(r'id="payload-sha256">([0-9a-f]{64})<', record.text)
            encoded = re.search(r'id="raw-base64">([^<]+)<', record.text)
            assert shown and encoded, link
            raw = base64.b64decode(encoded.group(1))
            assert hashlib.sha256(raw).hexdigest() == shown.group(1)
            assert shown.group(1)[:16] in page, "the master's page shows the same checksum beside the value"
            assert html.escape(raw.decode("utf-8"), quote=False) in record.text.replace("&#34;", '"').replace("&#39;", "'")


def test_the_as_of_view_shows_the_merged_away_master_as_it_was(audited: Audited) -> None:
    with audited.served.browsing(*AUDITOR) as browser:
        now = browser.get(f"/ui/audit/masters/{audited.retired}").text
        then = browser.get(
            f"/ui/audit/masters/{audited.retired}", params={"as_of": audited.before_merge.strftime("%Y-%m-%dT%H:%M:%S.%f")}
        ).text
        bad = browser.get(f"/ui/audit/masters/{audited.retired}", params={"as_of": "tomorrow"})
        for path in ("/ui/audit/records/public_security/X/versions/abc", "/ui/audit/records/public_security/X/versions/0"):
            refused = browser.get(path)
            assert refused.status_code == 422 and "<html" in refused.text, path
        assert browser.get("/ui/audit/records/public_security/NOPE/versions/1").status_code == 404
    assert "status-retired" in now and f'href="/ui/audit/masters/{audited.survivor}"' in now
    assert "status-active" in then and "status-retired" not in then
    for key in audited.retired_records:
        assert key.partition("|")[2] in then
    assert bad.status_code == 422


def test_stewards_and_subscribers_are_refused_and_page_reads_are_recorded(audited: Audited) -> None:
    with audited.served.browsing("steward", "li.steward") as browser:
        for path in _pages(audited):
            assert browser.get(path).status_code == 403, path
        token = csrf_of(browser.get("/ui/queue").text)
        assert browser.post("/ui/audit", data={"kind": "name", "q": "王", "csrf_token": token}).status_code == 403
        assert 'href="/ui/audit"' not in browser.get("/ui/queue").text
    with audited.served.client() as browser:
        assert browser.get("/ui/audit/log").status_code == 303  # to the sign-in page
        token = signed(audited.served.api, claims(audited.served.api, role="subscriber", subject="zhengzhou-health"))
        form = browser.get("/ui/signin").text
        assert browser.post("/ui/signin", data={"token": token, "csrf_token": csrf_of(form)}).status_code == 403
    with audited.served.browsing("admin", "admin.chen") as browser:
        assert browser.get(f"/ui/audit/masters/{audited.survivor}").status_code == 200
    reads = provenance.reads(audited.served.engine, Principal("x", "auditor"), limit=5).items
    assert (
        reads[0].subject == "admin.chen"
        and reads[0].channel == "page"
        and reads[0].what == "master"
        and reads[0].target == audited.survivor
    )


def test_the_log_page_shows_the_last_verification(audited: Audited, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = audited.served.index_settings
    assert settings is not None and settings.config_path is not None
    monkeypatch.setenv("MMI_STORE_URL", settings.store_url)  # the index's config, on this backend's store
    assert main(["audit", "verify", "--config", str(settings.config_path)]) == 0
    with audited.served.browsing(*AUDITOR) as browser:
        page = browser.get("/ui/audit/log").text
    assert 'id="verification"' in page and 'class="notice"' in page
    assert re.search(r'id="tree-size">(\d+)<', page)


def test_an_auditor_reads_provenance_in_a_real_browser(audited: Audited, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = DOCS_SCREENSHOTS if os.environ.get("MMI_SCREENSHOTS") == "1" else tmp_path  # as test_browser.py does
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = launched.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(audited.served.login_link(*AUDITOR))
        expect(page).to_have_url(re.compile(r"/ui/audit$"))
        # search: by master ID, then open the hit
        page.locator('select[name="kind"]').select_option("master_id")
        page.locator('input[name="q"]').fill(audited.survivor)
        page.get_by_role("button", name="查找").click()
        page.get_by_role("link", name=audited.survivor).click()
        expect(page).to_have_url(re.compile(rf"/ui/audit/masters/{audited.survivor}$"))
        expect(page.locator("table.golden tbody tr")).to_have_count(15)
        page.screenshot(path=str(shots / "audit-master.png"), full_page=True)
        # a value's source: the record version's raw payload, its checksum recomputed over the bytes shown
        name_source = page.locator('tr[data-field="name"] a.source')
        name_source.click()
        expect(page).to_have_url(re.compile(r"/ui/audit/records/.+/versions/\d+$"))
        raw = base64.b64decode(page.locator("#raw-base64").inner_text().strip())
        assert hashlib.sha256(raw).hexdigest() == page.locator("#payload-sha256").inner_text().strip()
        assert page.locator("#raw-text").inner_text().strip() == raw.decode("utf-8")
        page.screenshot(path=str(shots / "audit-record.png"), full_page=True)
        # the as-of view: the merged-away master, as it was before the merge
        page.goto(f"{audited.served.base_url}/ui/audit/masters/{audited.retired}")
        expect(page.locator("h1 .badge")).to_have_class(re.compile("status-retired"))
        page.locator('input[name="as_of"]').fill(audited.before_merge.strftime("%Y-%m-%dT%H:%M:%S"))
        page.get_by_role("button", name="显示当时状态").click()
        expect(page).to_have_url(re.compile(r"as_of="))
        expect(page.locator("h1 .badge")).to_have_class(re.compile("status-active"))
        expect(page.locator("#shown-as-of")).to_contain_text(audited.before_merge.strftime("%Y-%m-%d %H:%M:%S"))
        page.screenshot(path=str(shots / "audit-as-of.png"), full_page=True)
        context.close()
        launched.close()
    assert not errors, errors
