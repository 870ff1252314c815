"""/v1/indicators and /v1/worklists over real HTTP with real tokens, on SQLite and PostgreSQL.

A planner reads aggregates inside its jurisdiction and nothing that names a person; a health subscriber reads its
own area's worklist and gets 403 outside it; every other role gets 403, no token 401, a bad parameter 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mmi.api import api_settings, issue_token
from mmi.api.auth import KeySet, verify_token
from mmi.config import load_settings
from mmi.indicators import compute_indicators
from tests.mmi.exchange.test_failpoints import write_config
from tests.mmi.indicators.served import BACKENDS, SNAPSHOT_DAY, A, IndicatorSite, indicator_site
from tests.mmi.test_cli_exchange import mmi


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None) -> Iterator[IndicatorSite]:
    with indicator_site(request.param, tmp_path_factory.mktemp(f"indicators-{request.param}"), postgres_problem) as running:
        yield running


def _get(
    site: IndicatorSite, path: str, role: str | None, subject: str = "wang.planner", jurisdiction: tuple[str, ...] | None = None
) -> httpx.Response:
    headers = {}
    if role is not None:
        headers["Authorization"] = f"Bearer {issue_token(site.served.api, role, subject, 600, jurisdiction=jurisdiction)}"
    return httpx.get(f"{site.served.base_url}{path}", headers=headers, timeout=60)


def test_a_planner_reads_the_aggregates_of_its_jurisdiction_and_no_name(site: IndicatorSite) -> None:
    response = _get(site, f"/v1/indicators?as_of={A}", "planner", jurisdiction=("4101",))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["source"] == "computed" and report["jurisdiction"] == ["4101"]
    areas = {figure["area"] for figure in report["figures"]}
    assert areas == {"4101", "410105", "410102"}  # no province, no `all`, nothing of Shenzhen
    expected = {
        (row.indicator, row.area): (row.numerator, row.denominator)
        for row in compute_indicators(site.served.engine, as_of=A, area_prefix="4101")
        if row.area.startswith("4101")
    }
    assert {(f["indicator"], f["area"]): (f["numerator"], f["denominator"]) for f in report["figures"]} == expected
    vaccination = {f["area"]: f for f in report["figures"] if f["indicator"] == "child_vaccination"}
    assert (vaccination["410105"]["numerator"], vaccination["410105"]["denominator"]) == (1, 3)
    assert vaccination["410105"]["ci_low"] < 1 / 3 < vaccination["410105"]["ci_high"]
    assert site.sentinels.found_in(response.text) == []
    assert len(site.sentinels.values) > 40  # the check above had something to find


def test_the_report_reads_the_snapshot_when_the_date_has_one(site: IndicatorSite) -> None:
    response = _get(site, f"/v1/indicators?as_of={SNAPSHOT_DAY}&level=city", "admin")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["source"] == "snapshot"
    assert {(f["area"], f["level"]) for f in report["figures"]} == {("all", "all"), ("4101", "city"), ("4403", "city")}
    assert site.sentinels.found_in(response.text) == []


def test_a_planner_is_refused_outside_its_jurisdiction_and_other_roles_are_refused(site: IndicatorSite) -> None:
    assert _get(site, f"/v1/indicators?as_of={A}&area=4403", "planner", jurisdiction=("4101",)).status_code == 403
    assert _get(site, f"/v1/indicators?as_of={A}&area=41", "planner", jurisdiction=("4101",)).status_code == 403
    for role, subject in (("steward", "li"), ("auditor", "zhao"), ("subscriber", "zhengzhou-health")):
        refused = _get(site, f"/v1/indicators?as_of={A}", role, subject)
        assert refused.status_code == 403 and "planner or admin" in refused.json()["detail"]
    assert _get(site, f"/v1/indicators?as_of={A}", None).status_code == 401


def test_bad_parameters_are_422_with_a_reason(site: IndicatorSite) -> None:
    for query in ("as_of=2026-13-01", "as_of=1900-01-01", "as_of=9999-12-31", "", f"as_of={A}&level=street", f"as_of={A}&area=41x"):
        response = _get(site, f"/v1/indicators?{query}", "admin")
        assert response.status_code == 422, (query, response.text)
        assert response.json()["detail"]
    assert _get(site, f"/v1/worklists/no_such?area=4101&as_of={A}", "admin").status_code == 404
    not_persons = _get(site, f"/v1/worklists/disease_report_timeliness?area=4101&as_of={A}", "admin")
    assert not_persons.status_code == 422 and "not persons" in not_persons.json()["detail"]


def test_a_health_subscriber_reads_its_own_areas_worklist_and_nothing_outside(site: IndicatorSite) -> None:
    response = _get(site, f"/v1/worklists/child_vaccination?area=4101&as_of={A}", "subscriber", "zhengzhou-health")
    assert response.status_code == 200, response.text
    worklist = response.json()
    expected = {master for master, district in site.sentinels.unvaccinated.items() if district.startswith("4101")}
    assert {person["master_id"] for person in worklist["persons"]} == expected and len(expected) == 3
    assert all(person["name"] and person["phone"] for person in worklist["persons"])
    district = _get(site, f"/v1/worklists/child_vaccination?area=410102&as_of={A}", "subscriber", "zhengzhou-health").json()
    assert [person["district"] for person in district["persons"]] == ["410102"]
    for outside in ("4403", "44", "41", "all"):
        refused = _get(site, f"/v1/worklists/child_vaccination?area={outside}&as_of={A}", "subscriber", "zhengzhou-health")
        assert refused.status_code == 403 and "jurisdiction" in refused.json()["detail"], outside
    assert _get(site, f"/v1/worklists/child_vaccination?as_of={A}", "subscriber", "zhengzhou-health").status_code == 403


def test_nobody_else_reads_a_worklist(site: IndicatorSite) -> None:
    path = f"/v1/worklists/child_vaccination?area=4403&as_of={A}"
    for role, subject in (("planner", "wang"), ("steward", "li"), ("auditor", "zhao"), ("subscriber", "guangdong-police")):
        refused = _get(site, path, role, subject)
        assert refused.status_code == 403, (role, refused.text)
        assert site.sentinels.found_in(refused.text) == []
    assert _get(site, path, None).status_code == 401
    everywhere = _get(site, f"/v1/worklists/child_vaccination?area=all&as_of={A}", "admin")
    assert {person["master_id"] for person in everywhere.json()["persons"]} == set(site.sentinels.unvaccinated)
    assert _get(site, path, "admin", jurisdiction=("4101",)).status_code == 403


def test_a_planner_token_cannot_reach_change_sets(site: IndicatorSite) -> None:
    assert _get(site, "/v1/changesets?subscriber=zhengzhou-health", "planner").status_code == 403


def test_mmi_token_makes_a_planner_token_with_a_jurisdiction(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    made = mmi("token", "--config", str(config), "--role", "planner", "--subject", "wang", "--jurisdiction", "41")
    assert made.returncode == 0, made.stderr
    api = api_settings(load_settings(config))
    principal = verify_token(made.stdout.strip().splitlines()[-1], KeySet(api.jwks), api)
    assert (principal.subject, principal.role, principal.jurisdiction) == ("wang", "planner", ("41",))
