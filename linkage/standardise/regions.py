"""Region codes (GB/T 2260): validate six-digit codes and map hukou place text to a code.

The table is python-stdnum's `cn/loc.dat`, which keeps the whole history of the standard: every county-level
code with the years each name was in force (宁乡县 until 2017, 宁乡市 after). History matters here because a
hukou place or an ID number's region is whatever was in force when it was registered, often decades ago.
We chose it over `cpca` (current names only, unmaintained since 2021, pulls pandas) because it has the history
and is already a dependency for nothing else than this table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

_NAME_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class RegionName:
    """One name a code carried, and the years it was in force (None: open-ended)."""

    name: str
    start: int | None
    end: int | None

    def in_force(self, year: int) -> bool:
        return (self.start is None or self.start <= year) and (self.end is None or year <= self.end)


@dataclass(frozen=True)
class Region:
    code: str
    names: tuple[RegionName, ...]

    @property
    def current_name(self) -> str:
        """The name in force now, or the last one the code had."""
        open_ended = [n for n in self.names if n.end is None]
        return (open_ended or list(self.names))[-1].name

    @property
    def abolished(self) -> bool:
        return all(n.end is not None for n in self.names)


class RegionTable:
    """The GB/T 2260 codes: provinces (PP0000), prefectures (PPCC00) and counties (PPCCDD)."""

    def __init__(self, regions: dict[str, Region]) -> None:
        self._regions = regions
        self._by_place = self._index_place_names()
        self._prefixes: list[tuple[str, str]] = []  # (province name or short name, code), longest first

    def get(self, code: str) -> Region | None:
        return self._regions.get(code)

    def is_known(self, code: str | None, year: int | None = None) -> bool:
        """True when `code` is a GB/T 2260 code (in force in `year`, if given)."""
        region = self._regions.get(code or "")
        if region is None:
            return False
        return year is None or any(n.in_force(year) for n in region.names)

    def province_name(self, code: str) -> str | None:
        region = self._regions.get(code[:2] + "0000")
        return region.current_name if region else None

    def full_name(self, code: str) -> str | None:
        """Province + prefecture + county, as a hukou place is written: 河南省郑州市惠济区."""
        region = self._regions.get(code)
        if region is None:
            return None
        parts = [self._regions[c].current_name for c in (code[:2] + "0000", code[:4] + "00") if c in self._regions]
        if code not in (code[:2] + "0000", code[:4] + "00"):
            parts.append(region.current_name)
        return "".join(dict.fromkeys(parts))

    def county_codes(self, *, current_only: bool = True) -> list[str]:
        """County-level codes (not province or prefecture rows, not 市辖区), by default only those in force."""
        return [
            code
            for code, region in self._regions.items()
            if not code.endswith("00") and region.current_name != "市辖区" and not (current_only and region.abolished)
        ]

    def province_code(self, text: str) -> str | None:
        """吉林省 → 220000 (also 吉林 without the suffix)."""
        text = _clean(text)
        for code, region in self._regions.items():
            if code.endswith("0000") and any(_strip_suffix(n.name) == _strip_suffix(text) for n in region.names):
                return code
        return None

    def code_for_place(self, text: str | None) -> str | None:
        """Map hukou place text (province + prefecture + county names, any era) to a county code, or None."""
        if not text:
            return None
        cleaned = _clean(text)
        exact = self._by_place.get(cleaned)
        if exact:
            return exact
        province = next((code for prefix, code in self._province_prefixes() if cleaned.startswith(prefix)), None)
        if province is None:
            return None
        # The county name is what ends the text; the prefecture may be written differently or left out.
        candidates = [
            code
            for code, region in self._regions.items()
            if code[:2] == province[:2]
            and not code.endswith("00")
            and any(n.name != "市辖区" and cleaned.endswith(n.name) for n in region.names)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda code: (not self._regions[code].abolished, code[:4] in self._prefix_codes(cleaned)))

    def _prefix_codes(self, text: str) -> set[str]:
        return {
            code[:4]
            for code, region in self._regions.items()
            if code.endswith("00") and not code.endswith("0000") and any(n.name in text for n in region.names)
        }

    def _province_prefixes(self) -> list[tuple[str, str]]:
        if self._prefixes:
            return self._prefixes
        prefixes = []
        for code, region in self._regions.items():
            if code.endswith("0000"):
                for n in region.names:
                    prefixes += [(n.name, code), (_strip_suffix(n.name), code)]
        self._prefixes = sorted(prefixes, key=lambda p: -len(p[0]))
        return self._prefixes

    def _index_place_names(self) -> dict[str, str]:
        """Every exact spelling province+prefecture+county (each name of each era) → code; current codes win."""
        index: dict[str, str] = {}
        ordered = sorted(self._regions.items(), key=lambda item: not item[1].abolished)  # abolished first
        for code, region in ordered:
            if code.endswith("00"):
                continue
            province = self._regions.get(code[:2] + "0000")
            prefecture = self._regions.get(code[:4] + "00")
            for p in province.names if province else ():
                for c in prefecture.names if prefecture else (RegionName("", None, None),):
                    for n in region.names:
                        index[p.name + c.name + n.name] = code
                        index[p.name + n.name] = code
        return index

    def __len__(self) -> int:
        return len(self._regions)


def _clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _strip_suffix(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _parse_names(value: str) -> tuple[RegionName, ...]:
    names = []
    for part in value.split(","):
        match = _NAME_SPAN.match(part)
        if match:
            start, end, name = match.groups()
            names.append(RegionName(name, int(start) if start else None, int(end) if end else None))
        else:
            names.append(RegionName(part, None, None))
    return tuple(names)


@cache
def region_table() -> RegionTable:
    """The table, parsed once per process from python-stdnum's data file."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    regions: dict[str, Region] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, attributes = line.strip().partition(" ")
        value = attributes.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            province = key
            regions[province + "0000"] = Region(province + "0000", _parse_names(value))
        else:
            code = province + key
            if code.endswith("0000"):
                continue  # the province's own row, already recorded
            regions[code] = Region(code, _parse_names(value))
    return RegionTable(regions)


def validate_region_code(code: str | None) -> str | None:
    """The code if it is a six-digit GB/T 2260 code of any era, else None."""
    if code is None:
        return None
    code = unicodedata.normalize("NFKC", str(code)).strip()
    if _CODE.match(code) and region_table().is_known(code):
        return code
    return None
