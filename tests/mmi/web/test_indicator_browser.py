"""The indicator pages in a real browser (Playwright driving Debian's chromium): an admin signs in by a one-time
link, opens the indicators from the nav, drills down province → city → district by the tables' links and on to
the district's worklist; a planner drills down the same way and finds no way to a name. No CSP violation, no
script error, on the way. Skipped without /usr/bin/chromium, except under CI (CI=true), where that fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mmi.indicators.served import A, IndicatorSite, indicator_site
from tests.mmi.web.chromium import ARGS, CHROMIUM, need_chromium
from tests.mmi.web.test_browser import DOCS_SCREENSHOTS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[IndicatorSite]:
    need_chromium()
    with indicator_site("sqlite", tmp_path_factory.mktemp("indicator-browser"), postgres_problem) as running:
        yield running


def test_the_drill_down_to_a_worklist_in_a_real_browser(site: IndicatorSite, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        problems: list[str] = []
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(site.served.login_link("admin", "root"))
            page.locator("nav a[href='/ui/indicators/']").click()
            expect(page.locator("h1")).to_contain_text("均等化服务指标")
            page.goto(f"{site.served.base_url}/ui/indicators/?as_of={A}")
            expect(page.locator("svg.rates").first).to_be_visible()
            for area in ("41", "4101", "410105"):
                page.locator("#indicator-child_vaccination table.figures").get_by_role("link", name=area, exact=True).click()
                expect(page.locator(".breadcrumbs [aria-current=page]")).to_have_text(area)
            vaccination = page.locator("#indicator-child_vaccination")
            expect(vaccination.locator("dd.rate")).to_contain_text("(1 / 3)")
            shots = DOCS_SCREENSHOTS if os.environ.get("MMI_SCREENSHOTS") == "1" else tmp_path  # as test_browser.py does
            page.screenshot(path=str(shots / "indicators.png"), full_page=True)
            vaccination.locator("a.worklist-link").click()
            rows = page.locator("table.worklist tbody tr")
            expect(rows).to_have_count(2)
            masters = sorted(rows.nth(index).get_attribute("data-master") or "" for index in range(2))
            assert masters == sorted(master for master, district in site.sentinels.unvaccinated.items() if district == "410105")
            expect(page.locator("table.worklist")).to_contain_text("哨兵")  # names are what a worklist is for
            page.screenshot(path=str(shots / "worklist.png"), full_page=True)
            context.close()

            context = browser.new_context()
            page = context.new_page()
            page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
            page.goto(site.served.login_link("planner", "wang.planner", ("4101",)))
            page.goto(f"{site.served.base_url}/ui/indicators/?as_of={A}")
            page.locator("#indicator-child_vaccination table.figures").get_by_role("link", name="410105", exact=True).click()
            expect(page.locator(".breadcrumbs [aria-current=page]")).to_have_text("410105")
            expect(page.locator("a.worklist-link")).to_have_count(0)
            body = page.content()
            assert site.sentinels.found_in(body) == [] and "哨兵" not in body
            context.close()
        finally:
            browser.close()
    assert problems == [], problems
