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
from tests.mmi.web.chromium import ARGS, CHROMIUM, need_chromium
from tests.mmi.web.server import Served, serve
from tests.mmi.web.workbench import build_index

# The README's screenshots are this test's: `MMI_SCREENSHOTS=1 .venv/bin/pytest tests/mmi/web/test_browser.py` writes them.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_chromium()
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


def _positions(served: Served) -> tuple[int, int]:
    """Where in the queue (from the service) a pair and a published cluster are now."""
    steward = Principal("li.steward", "steward")
    items = queue_page(served.engine, steward, limit=100).items
    pair = next(index for index, item in enumerate(items) if item.kind in ("pair", "conflict"))
    published = [
        index for index, item in enumerate(items) if item.kind == "cluster" and item_detail(served.engine, steward, item.id).published_to
    ]
    assert published, "the generated index should hold a published cluster in the queue"
    return pair, published[0]


def test_a_steward_works_the_queue_in_a_real_browser(workbench: Served, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    screenshots = DOCS_SCREENSHOTS if os.environ.get("MMI_SCREENSHOTS") == "1" else tmp_path
    screenshots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    link = _sign_in_by_link(workbench, context, page)
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)
    pair_pos, _cluster_pos = _positions(workbench)
    _open_by_keyboard(page, pair_pos)
    _read_the_explanation(page)
    page.screenshot(path=str(screenshots / "item.png"), full_page=True)
    _decide_by_keyboard(page, pair_pos)
    decision_id = _split_a_published_cluster(workbench, page)
    _proposer_is_refused_then_signs_out(workbench, context, page, decision_id, link)
    _second_steward_approves(workbench, page, decision_id)
    _switch_language_and_sign_out(workbench, context, page, decision_id)
    assert not errors, errors  # no CSP violation, no missing asset
    context.close()


def _sign_in_by_link(served: Served, context, page) -> str:  # type: ignore[no-untyped-def]
    """The one-time link signs in; the cookie is HttpOnly, SameSite=Strict, out of reach of scripts."""
    from playwright.sync_api import expect

    link = served.login_link("steward", "li.steward")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/ui/queue$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    cookie = next(c for c in context.cookies() if c["name"] == "mmi_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""
    return link


def _open_by_keyboard(page, position: int) -> None:  # type: ignore[no-untyped-def]
    """? shows the keys and Escape closes them; j/k move through the queue; Enter opens the selected item."""
    from playwright.sync_api import expect

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    for _ in range(position + 1):
        page.keyboard.press("j")
    page.keyboard.press("k")
    if position > 0:
        page.keyboard.press("j")
    expect(page.locator("[data-item-row]").nth(position)).to_have_class(re.compile("selected"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/ui/items/\d+\?pos={position}"))


def _read_the_explanation(page) -> None:  # type: ignore[no-untyped-def]
    """The waterfall is drawn by the server, and its table's numbers add up to the match weight."""
    from playwright.sync_api import expect

    expect(page.locator("svg.waterfall")).to_be_visible()
    weights = [float(text) for text in page.locator("table.weights tbody td:nth-child(3)").all_inner_texts()]
    tf = [float(text) for text in page.locator("table.weights tbody td:nth-child(4)").all_inner_texts() if text.strip() != "—"]
    total = float(page.locator("table.weights tfoot strong").inner_text())
    assert abs(sum(weights) + sum(tf) - total) < 0.01


def _decide_by_keyboard(page, position: int) -> None:  # type: ignore[no-untyped-def]
    """m asks for a reason first, Enter submits, and the item now at the same position opens; s skips on."""
    from playwright.sync_api import expect

    page.keyboard.press("m")
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.type("同一人：出生日期与身份号码一致")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("#")
    expect(page).to_have_url(re.compile(rf"/ui/items/\d+\?pos={position}&decided=\d+"))
    page.keyboard.press("s")
    expect(page).to_have_url(re.compile(rf"pos={position + 1}"))


def _split_a_published_cluster(served: Served, page) -> int:  # type: ignore[no-untyped-def]
    """Back to the queue (u), down to the published cluster, preview a split (four eyes), split: proposed."""
    from playwright.sync_api import expect

    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/ui/queue"))
    _pair, cluster_pos = _positions(served)
    for _ in range(cluster_pos + 1):
        page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("svg.cluster")).to_be_visible()
    page.locator('input[name="split_mode"][value="record"]').check()
    page.get_by_role("button", name="预览拆分结果").click()
    expect(page.locator(".preview .four-eyes")).to_be_visible()
    page.locator("#split-reason").fill("其中一条记录属于另一人（双胞胎）")
    page.get_by_role("button", name="提交拆分").click()
    expect(page.locator(".notice")).to_contain_text("待复核")
    return int(re.search(r"decided=(\d+)", page.url).group(1))  # type: ignore[union-attr]


def _proposer_is_refused_then_signs_out(served: Served, context, page, decision_id: int, link: str) -> None:  # type: ignore[no-untyped-def]
    """No approve button for one's own proposal, and its post is 403; so is a post without the CSRF token.
    Signing out ends the session; the one-time link stays spent."""
    from playwright.sync_api import expect

    page.goto(f"{served.base_url}/ui/decisions?status=proposed")
    row = page.locator(f"#decision-{decision_id}")
    expect(row).to_contain_text("需由另一位数据管理员复核")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    approve = f"{served.base_url}/ui/decisions/{decision_id}/approve"
    assert page.request.post(approve, form={"csrf_token": token or ""}).status == 403
    assert page.request.post(approve, form={"reason": "no token"}).status == 403
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    page.goto(f"{served.base_url}/ui/queue")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    again = context.new_page()
    again.goto(link)
    expect(again.locator(".problem")).to_be_visible()
    again.close()


def _second_steward_approves(served: Served, page, decision_id: int) -> None:  # type: ignore[no-untyped-def]
    """Another steward signs in by pasting a token, and approves: the decision is accepted."""
    from playwright.sync_api import expect

    page.locator("#token").fill(issue_token(served.api, "steward", "zhao.steward"))
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/ui/queue"))
    page.goto(f"{served.base_url}/ui/decisions?status=proposed")
    row = page.locator(f"#decision-{decision_id}")
    row.locator('input[name="reason"]').fill("核对无误")
    row.get_by_role("button", name="批准").click()
    expect(page.locator(".notice")).to_contain_text("已生效")


def _switch_language_and_sign_out(served: Served, context, page, decision_id: int) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{served.base_url}/ui/decisions?status=accepted")
    expect(page.locator(f"#decision-{decision_id}")).to_contain_text("zhao.steward")
    expect(page.get_by_role("link", name="Review queue")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    assert not [c for c in context.cookies() if c["name"] == "mmi_session" and c["value"]]
