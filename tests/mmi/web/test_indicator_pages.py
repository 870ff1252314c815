"""The indicator pages over real HTTP (SQLite and PostgreSQL): the figures are the service's, drawn and tabled; the
drill-down goes province → city → district; a planner's pages name nobody and never lead to a worklist; the
worklist pages are for admins and health subscribers inside their jurisdiction; both languages; the CSP holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmi.indicators import service
from mmi.principal import Principal
from tests.mmi.exchange.test_failpoints import write_config
from tests.mmi.indicators.served import BACKENDS, SNAPSHOT_DAY, A, IndicatorSite, indicator_site
from tests.mmi.test_cli_exchange import mmi
from tests.mmi.web.server import csrf_of


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[IndicatorSite]:
    with indicator_site(request.param, tmp_path_factory.mktemp(f"indicator-pages-{request.param}"), postgres_problem) as running:
        yield running


def _drill_links(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/ui/indicators/\?area=(\w+)&amp;as_of=', html)


def test_a_planner_drills_down_from_its_province_to_a_district_and_sees_no_name(site: IndicatorSite) -> None:
    planner = Principal("wang.planner", "planner", ("41",))
    with site.served.browsing("planner", "wang.planner", ("41",)) as browser:
        start = browser.get(f"/ui/indicators/?as_of={A}")
        assert start.status_code == 200, start.text
        assert set(_drill_links(start.text)) == {"4101"}  # the province's cities: Shenzhen is not in 41
        view = service.area_view(site.served.engine, planner, as_of=A, area="41")
        vaccination = view.own["child_vaccination"]
        assert f"({vaccination.numerator} / {vaccination.denominator})" in start.text
        city = browser.get(f"/ui/indicators/?area=4101&as_of={A}")
        assert set(_drill_links(city.text)) == {"410105", "410102"}
        city_view = service.area_view(site.served.engine, planner, as_of=A, area="4101")
        charted = [indicator for indicator, figures in city_view.children.items() if figures]
        assert city.text.count('<svg class="rates"') == city.text.count('<table class="figures">') == len(charted) >= 3
        for figure in city_view.children["child_vaccination"]:  # the table's numbers are the service's
            assert f'<tr data-area="{figure.area}">' in city.text
        district = browser.get(f"/ui/indicators/?area=410105&as_of={A}")
        assert district.status_code == 200 and "/ui/indicators/worklist" not in district.text
        for page in (start, city, district):
            assert site.sentinels.found_in(page.text) == []
            assert "<script>" not in page.text and "style=" not in page.text
            assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert browser.get(f"/ui/indicators/?area=4403&as_of={A}").status_code == 403
        assert browser.get(f"/ui/indicators/worklist/child_vaccination?area=410105&as_of={A}").status_code == 403
        assert browser.get("/ui/queue").status_code == 403


def test_the_trend_shows_the_month_ends_that_have_a_snapshot(site: IndicatorSite) -> None:
    with site.served.browsing("admin", "root") as browser:
        page = browser.get(f"/ui/indicators/?area=4101&as_of={A}")
    assert page.status_code == 200
    assert "1 of the last 12" in page.text or "12 个月末中 1 个" in page.text
    assert str(SNAPSHOT_DAY) in page.text and 'class="point"' in page.text


def test_an_admin_reaches_the_worklist_from_a_district_in_both_languages(site: IndicatorSite) -> None:
    with site.served.browsing("admin", "root") as browser:
        missing = {"zh-CN": f"截至{A}无预防接种记录", "en": f"no vaccination on or before {A}"}  # what each child lacks
        for language, label in (("zh-CN", "工作清单"), ("en", "Worklist")):
            token = csrf_of(browser.get("/ui/signin").text)
            assert browser.post("/ui/language", data={"lang": language, "next": "/ui/queue", "csrf_token": token}).status_code == 303
            district = browser.get(f"/ui/indicators/?area=410105&as_of={A}")
            link = re.search(r'href="(/ui/indicators/worklist/child_vaccination\?area=410105&amp;as_of=[0-9-]+)"', district.text)
            assert link and label in district.text, district.text[:500]
            worklist = browser.get(link.group(1).replace("&amp;", "&"))
            assert worklist.status_code == 200 and f'<html lang="{language}">' in worklist.text
            shown = set(re.findall(r'data-master="(\w+)"', worklist.text))
            assert shown == {master for master, where in site.sentinels.unvaccinated.items() if where == "410105"} and shown
            assert worklist.text.count(f"<td>{missing[language]}</td>") == len(shown)


def test_a_health_subscriber_reads_its_worklists_only_inside_its_jurisdiction(site: IndicatorSite) -> None:
    with site.served.browsing("subscriber", "zhengzhou-health") as browser:
        first = browser.get("/ui/indicators/worklist", follow_redirects=True)
        assert first.status_code == 200 and str(first.url).endswith("/ui/indicators/worklist/health_record?area=4101")
        subscriber = Principal("zhengzhou-health", "subscriber")
        expected = service.worklist_report(
            site.served.engine,
            subscriber,
            site.served.settings.exchange.subscriptions,
            indicator="health_record",
            area="4101",
            as_of=SNAPSHOT_DAY,
        )
        assert re.findall(r'data-master="(\w+)"', first.text) == [person.master_id for person in expected.persons] != []
        vaccination = browser.get(f"/ui/indicators/worklist/child_vaccination?area=4101&as_of={A}")
        shown = set(re.findall(r'data-master="(\w+)"', vaccination.text))
        assert shown == {master for master, where in site.sentinels.unvaccinated.items() if where.startswith("4101")}
        assert browser.get(f"/ui/indicators/worklist/child_vaccination?area=4403&as_of={A}").status_code == 403
        assert browser.get(f"/ui/indicators/?as_of={A}").status_code == 403  # aggregates are the planners'
    with site.served.browsing("subscriber", "guangdong-police") as police:  # not a health department
        assert police.get(f"/ui/indicators/worklist/child_vaccination?area=4403&as_of={A}").status_code == 403


def test_a_bad_date_or_area_is_a_422_page(site: IndicatorSite) -> None:
    with site.served.browsing("admin", "root") as browser:
        assert browser.get("/ui/indicators/?as_of=1900-01-01").status_code == 422
        assert browser.get("/ui/indicators/?as_of=2026-02-30").status_code == 422
        assert browser.get("/ui/indicators/?area=zz").status_code == 422
        assert browser.get(f"/ui/indicators/worklist/no_such?area=4101&as_of={A}").status_code == 404


def test_mmi_login_signs_a_planner_and_a_health_subscriber_in(site: IndicatorSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, site.served.settings.store_url)
    with site.served.client() as browser:
        for role, subject, landing in (
            ("planner", "wang.planner", "/ui/indicators/"),
            ("subscriber", "zhengzhou-health", "/ui/indicators/worklist"),
        ):
            made = mmi("login", "--config", str(config), "--role", role, "--subject", subject, "--url", site.served.base_url)
            assert made.returncode == 0, made.stderr
            arrived = browser.get(made.stdout.strip().splitlines()[-1])
            assert arrived.status_code == 303 and arrived.headers["location"] == landing
    refused = mmi("login", "--config", str(config), "--role", "subscriber", "--subject", "guangdong-police")
    assert refused.returncode == 2 and "health" in refused.stderr
