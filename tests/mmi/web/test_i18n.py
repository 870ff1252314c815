"""Every label in both languages: the catalogues have the same keys, every key a template uses exists, and the
language switch is remembered."""

from __future__ import annotations

import re
import typing

from connectors.registry import DEPARTMENTS
from mmi.indicators import load_definitions
from mmi.provenance.models import SearchKind, StewardDecision
from mmi.review.models import DecisionKind, DecisionStatus, ItemKind, ScoreBand
from mmi.web.i18n import LANGUAGES, catalogue
from mmi.web.rendering import TEMPLATES
from schemas.canonical import PERSON_FIELDS
from tests.mmi.web.server import Served, csrf_of

_LITERAL = re.compile(r"""\bt\(\s*'([^']+)'\s*[,)]""")
_PREFIX = re.compile(r"""\bt\(\s*'([^']+)'\s*~""")


def _template_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.glob("*.html")))


def test_both_catalogues_have_the_same_keys_and_no_empty_text() -> None:
    chinese, english = catalogue("zh-CN"), catalogue("en")
    assert set(chinese) == set(english)
    assert all(text.strip() for text in [*chinese.values(), *english.values()])
    for key in chinese:  # a placeholder in one language is a placeholder in the other
        assert set(re.findall(r"\{(\w+)\}", chinese[key])) == set(re.findall(r"\{(\w+)\}", english[key])), key


def test_every_key_the_templates_use_is_in_the_catalogues() -> None:
    used = set(_LITERAL.findall(_template_text()))
    assert len(used) > 100
    for language in LANGUAGES:
        assert used <= set(catalogue(language)), sorted(used - set(catalogue(language)))


def test_every_value_a_template_translates_by_prefix_has_a_label() -> None:
    prefixes = set(_PREFIX.findall(_template_text()))
    values = {
        "kind.": typing.get_args(ItemKind),
        "reason.": typing.get_args(ItemKind),
        "decision.": typing.get_args(DecisionKind),
        "status.": typing.get_args(DecisionStatus),
        "band.": typing.get_args(ScoreBand),
        "department.": DEPARTMENTS,
        "role.": ("steward", "auditor", "admin", "planner", "subscriber"),
        "indicator.": tuple(indicator.id for indicator in load_definitions().indicators),
        "level.": ("district", "city", "province"),
        "ind.source_": ("snapshot", "computed"),
        "lang.": LANGUAGES,
        "field.": PERSON_FIELDS,
        "graph.kind_": ("link", "bridge", "weakest", "must_link", "cannot_link"),
        "event.": ("create", "update", "merge", "split", "retire"),
        "audit.kind_": (*typing.get_args(SearchKind), "must_link", "cannot_link", *typing.get_args(DecisionKind)),
        "audit.status_": ("active", "retired"),
        "audit.decision_": typing.get_args(typing.get_type_hints(StewardDecision)["source"]),
        "audit.read_": ("master", "record", "disclosures", "search"),
    }
    optional = {"factor.", "flag."}  # shown by key when labelled, else as the service wrote them (`has(...)` in the template)
    assert prefixes - optional <= set(values), prefixes - optional - set(values)
    for language in LANGUAGES:
        messages = catalogue(language)
        missing = [prefix + str(value) for prefix, keys in values.items() for value in keys if prefix + str(value) not in messages]
        assert not missing, missing
    errors = {f"error.{status}" for status in (401, 403, 404, 409, 422)} | {"error.csrf"}
    assert errors <= set(catalogue("zh-CN"))


def test_chinese_is_the_default_and_the_switch_is_remembered(served: Served) -> None:
    with served.client() as browser:
        first = browser.get("/ui/signin")
        assert '<html lang="zh-CN">' in first.text and "登录" in first.text
        switched = browser.post("/ui/language", data={"lang": "en", "next": "/ui/signin", "csrf_token": csrf_of(first.text)})
        assert switched.status_code == 303 and switched.headers["location"] == "/ui/signin"
        assert "samesite=strict" in switched.headers["set-cookie"].lower()
        again = browser.get("/ui/signin")
        assert '<html lang="en">' in again.text and "Or paste a token" in again.text
        assert browser.post("/ui/language", data={"lang": "fr", "next": "/ui/signin"}).status_code == 403  # no CSRF token
