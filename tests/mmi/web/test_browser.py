"""The workbench in a real browser: Playwright (PyPI) driving Debian's chromium, never a downloaded browser.

One scenario over one served index (generated feeds with twins and namesakes, linked, published): sign in with a
one-time link, work through the queue by keyboard, read an explanation, decide a pair, split a published cluster
(proposed: four eyes), approve it as a second steward signed in by a pasted token, switch language, sign out;
CSRF and the cookie's flags on the way. Where /usr/bin/chromium is missing the test is skipped saying so, except
under CI (CI=true), where that is a failure: `.ci/run` installs the package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmi.api import issue_token
from mmi.principal import Principal
from mmi.review import item_detail, queue_page
from tests.mmi.web.server import Served, serve
from tests.mmi.web.workbench import build_index

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# The README's screenshots are this test's: `MMI_SCREENSHOTS=1 .venv/bin/pytest tests/mmi/web/test_browser.py` writes them.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium package (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser test")


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _need_chromium()
    out = tmp_path_factory.mktemp("workbench")
    settings, engine = build_index(out / "feeds", people=1000)
    with serve(out, settings.store_url, engine) as served:
        yield served
    engine.dispose()


@pytest.fixture(scope="module")
def browser(workbench: Served) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _targets(served: Served) -> tuple[int, int, int]:
    """Positions in the queue of a pair and of a published cluster, and the cluster's item ID (from the service)."""
    steward = Principal("li.steward", "steward")
    items = queue_page(served.engine, steward, limit=100).items
    pair = next(index for index, item in enumerate(items) if item.kind in ("pair", "conflict"))
    published = [index for index, item in enumerate(items) if item.kind == "cluster"
                 and item_detail(served.engine, steward, item.id).published_to]
    assert published, "the generated index should hold a published cluster in the queue"
    return pair, published[0], items[published[0]].id


def test_a_steward_works_the_queue_in_a_real_browser(workbench: Served, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    screenshots = DOCS_SCREENSHOTS if os.environ.get("MMI_SCREENSHOTS") == "1" else tmp_path
    pair_pos, cluster_pos, cluster_id = _targets(workbench)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # Sign in with the one-time link: the cookie is HttpOnly and SameSite=Strict; the link is spent.
    link = workbench.login_link("steward", "li.steward")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/ui/queue$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    cookie = next(c for c in context.cookies() if c["name"] == "mmi_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""  # no script can read the session
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)

    # Keyboard: ? shows the keys, Escape closes; j/k move through the queue, Enter opens the selected item.
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    for _ in range(pair_pos + 1):
        page.keyboard.press("j")
    page.keyboard.press("k")
    if pair_pos > 0:
        page.keyboard.press("j")
    rows = page.locator("[data-item-row]")
    expect(rows.nth(pair_pos)).to_have_class(re.compile("selected"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/ui/items/\d+\?pos={pair_pos}"))

    # The explanation: a waterfall drawn by the server, and its numbers add up to the match weight.
    expect(page.locator("svg.waterfall")).to_be_visible()
    weights = [float(text) for text in page.locator("table.weights tbody td:nth-child(3)").all_inner_texts()]
    total = float(page.locator("table.weights tfoot strong").inner_text())
    tf = [float(text) for text in page.locator("table.weights tbody td:nth-child(4)").all_inner_texts() if text.strip() != "—"]
    assert abs(sum(weights) + sum(tf) - total) < 0.01
    page.screenshot(path=str(screenshots / "item.png"), full_page=True)

    # Decide by keyboard: m asks for a reason first, Enter submits; the next item of the queue opens.
    page.keyboard.press("m")
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.type("同一人：出生日期与身份号码一致")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("#")
    expect(page).to_have_url(re.compile(rf"/ui/items/\d+\?pos={pair_pos}"))

    # s skips, u goes back to the queue; the published cluster is split into one record and the rest.
    page.keyboard.press("s")
    expect(page).to_have_url(re.compile(rf"pos={pair_pos + 1}"))
    page.goto(f"{workbench.base_url}/ui/items/{cluster_id}?pos={cluster_pos}")
    expect(page.locator("svg.cluster")).to_be_visible()
    page.locator('input[name="split_mode"][value="record"]').check()
    page.get_by_role("button", name="预览拆分结果").click()
    expect(page.locator(".preview .four-eyes")).to_be_visible()  # it touches a published master: four eyes
    page.locator('input[name="split_mode"][value="record"]').check()
    page.locator("#split-reason").fill("其中一条记录属于另一人（双胞胎）")
    page.get_by_role("button", name="提交拆分").click()
    expect(page.locator(".notice")).to_contain_text("待复核")

    # The proposer may not approve it (403), and a post without the CSRF token is refused (403).
    page.goto(f"{workbench.base_url}/ui/decisions?status=proposed")
    row = page.locator("table.decisions tbody tr").first
    decision_id = int(row.locator("td").first.inner_text())
    expect(row).to_contain_text("需由另一位数据管理员复核")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    own = page.request.post(f"{workbench.base_url}/ui/decisions/{decision_id}/approve", form={"csrf_token": token or ""})
    assert own.status == 403
    forged = page.request.post(f"{workbench.base_url}/ui/decisions/{decision_id}/approve", form={"reason": "no token"})
    assert forged.status == 403
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    page.goto(f"{workbench.base_url}/ui/queue")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    again = context.new_page()
    again.goto(link)  # the one-time link is spent
    expect(again.locator(".problem")).to_be_visible()
    again.close()

    # A second steward signs in by pasting a token and approves; then switches to English and signs out.
    page.goto(f"{workbench.base_url}/ui/signin")
    page.locator("#token").fill(issue_token(workbench.api, "steward", "zhao.steward"))
    page.get_by_role("button", name="登录").click()
    page.goto(f"{workbench.base_url}/ui/decisions?status=proposed")
    mine = page.locator(f"#decision-{decision_id}")
    mine.locator('input[name="reason"]').fill("核对无误")
    mine.get_by_role("button", name="批准").click()
    expect(page.locator(".notice")).to_contain_text("已生效")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{workbench.base_url}/ui/decisions?status=accepted")
    expect(page.locator(f"#decision-{decision_id}")).to_contain_text("zhao.steward")
    expect(page.get_by_role("link", name="Review queue")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    assert not [c for c in context.cookies() if c["name"] == "mmi_session" and c["value"]]
    assert not errors, errors  # no CSP violation, no missing asset
    context.close()
