"""The pages' languages: one message catalogue per language (messages/<code>.json, key → text), zh-CN by default.

Every label a page shows goes through `Translator.t(key, **values)`; a key missing from the catalogue is an error,
not a silent fallback, so a page cannot show a label in one language only (tests render every page in both).
The choice is remembered in a cookie (it applies before sign-in too).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
COOKIE = "mmi_lang"
CATALOGUES = Path(__file__).with_name("messages")


@cache
def catalogue(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: the pages speak {list(LANGUAGES)}")
    messages: dict[str, str] = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
    return messages


class Translator:
    def __init__(self, language: str) -> None:
        self.language = language
        self.messages = catalogue(language)

    def t(self, key: str, **values: Any) -> str:
        text = self.messages[key]  # KeyError: a label that is not in the catalogue
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages


def request_language(request: Request) -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT
