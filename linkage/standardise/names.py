"""Personal names: one written form, and its pinyin.

Departments write the same name differently: spaces inside it (ASCII or the full-width U+3000), traditional
characters (陳 for 陈), full-width letters. The standard form is NFKC, without white space, in simplified
characters; the separator dot of minority names (阿依古丽·买买提) is kept as one '·'. Pinyin (no tones) is kept
beside it, so that homophones (伟/玮) and characters the conversion missed still compare close.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

NAME_HAD_SPACES = "name_had_spaces"
NAME_HAD_TRADITIONAL = "name_had_traditional"
NAME_NOT_CHINESE = "name_not_chinese"

_DOTS = re.compile(r"[·•‧∙⋅・．.]")
_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·]+$")

# Surnames whose reading differs from the character's common one; pypinyin reads the word, not the role.
_SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "缪": "miao",
    "翟": "zhai",
    "种": "chong",
    "召": "shao",
    "员": "yun",
    "秘": "bi",
    "折": "she",
    "黑": "he",
    "长": "chang",
    "重": "chong",
    "尉": "yu",
    "宁": "ning",
    "华": "hua",
    "任": "ren",
    "沈": "shen",
    "石": "shi",
    "柏": "bai",
    "葛": "ge",
    "燕": "yan",
    "纪": "ji",
    "薄": "bo",
    "繁": "po",
}

_to_simplified = opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def standardise_name(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The standard written form of a name, with the flags of what had to be changed."""
    if raw is None:
        return None, ()
    text = unicodedata.normalize("NFKC", str(raw))
    flags: list[str] = []
    joined = "".join(text.split())
    if joined != text.strip():
        flags.append(NAME_HAD_SPACES)
    joined = _DOTS.sub("·", joined).strip("·")
    if not joined:
        return None, tuple(flags)
    simplified = _to_simplified.convert(joined)
    if simplified != joined:
        flags.append(NAME_HAD_TRADITIONAL)
    if not _HAN.match(simplified):
        flags.append(NAME_NOT_CHINESE)
    return simplified, tuple(flags)


def name_pinyin(name: str | None) -> str | None:
    """Toneless pinyin, syllables separated by spaces: 张伟 → 'zhang wei'; surnames read as surnames.

    The surname and the given name are read apart: a surname has its own readings, and given names repeat far
    more often than whole names, so caching them keeps this cheap on millions of rows.
    """
    if not name:
        return None
    surname = _SURNAME_READINGS.get(name[0]) or _pinyin(name[0])
    given = _pinyin(name[1:]) if len(name) > 1 else ""
    return " ".join(part for part in (surname, given) if part)


@lru_cache(maxsize=200_000)
def _pinyin(text: str) -> str:
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="default")
    return " ".join(s.lower() for s in syllables if s.strip("·"))
