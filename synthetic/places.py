"""Where migrants come from and where they live: GB/T 2260 codes, addresses, employers.

Hukou counties are drawn from the whole current code table, weighted by province the way migration flows run
(Henan, Sichuan, Anhui, Hunan send the most). Current districts are drawn from a fixed list of destination
cities, so that each district holds many migrants, as real ones do; a person never lives in their hukou city
(they would not be a migrant).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from linkage.standardise.regions import region_table

# Province code → relative weight as a source of migrants.
_ORIGIN_WEIGHTS = {
    "41": 12,
    "51": 10,
    "34": 9,
    "43": 7,
    "42": 6,
    "36": 6,
    "52": 5,
    "45": 5,
    "37": 5,
    "13": 4,
    "50": 4,
    "53": 3,
    "61": 3,
    "62": 3,
    "23": 3,
    "22": 2,
    "21": 2,
    "14": 2,
    "32": 2,
    "35": 2,
    "44": 2,
    "33": 1,
    "15": 1,
    "65": 1,
    "64": 0.5,
    "63": 0.5,
    "46": 0.5,
    "54": 0.3,
    "11": 0.2,
    "12": 0.2,
    "31": 0.2,
}

# Destination cities: prefecture code prefix → (short name used in employer names, relative weight).
_DESTINATIONS = {
    "3101": ("上海", 10),
    "1101": ("北京", 9),
    "4403": ("深圳", 9),
    "4401": ("广州", 8),
    "4406": ("佛山", 4),
    "3205": ("苏州", 5),
    "3301": ("杭州", 5),
    "3302": ("宁波", 3),
    "3201": ("南京", 3),
    "3202": ("无锡", 2),
    "1201": ("天津", 4),
    "5001": ("重庆", 4),
    "5101": ("成都", 5),
    "4101": ("郑州", 4),
    "4201": ("武汉", 4),
    "6101": ("西安", 3),
    "4301": ("长沙", 3),
    "3401": ("合肥", 2),
    "3501": ("福州", 2),
    "3502": ("厦门", 2),
    "3505": ("泉州", 2),
    "3702": ("青岛", 2),
    "3701": ("济南", 2),
    "2101": ("沈阳", 1),
    "2102": ("大连", 2),
    "2201": ("长春", 1),
    "2301": ("哈尔滨", 1),
    "5301": ("昆明", 2),
    "5201": ("贵阳", 1),
    "4501": ("南宁", 1),
    "3601": ("南昌", 1),
    "1401": ("太原", 1),
    "1301": ("石家庄", 1),
    "6501": ("乌鲁木齐", 1),
    "6201": ("兰州", 1),
    "1501": ("呼和浩特", 1),
    "4404": ("珠海", 1),
    "3303": ("温州", 2),
    "3304": ("嘉兴", 1),
    "3306": ("绍兴", 1),
    "3307": ("金华", 2),
    "3204": ("常州", 1),
    "3206": ("南通", 1),
    "3203": ("徐州", 1),
    "3706": ("烟台", 1),
    "1302": ("唐山", 1),
    "4601": ("海口", 1),
    "4413": ("惠州", 2),
    "4407": ("江门", 1),
    "6301": ("西宁", 1),
    "6401": ("银川", 1),
    "4503": ("桂林", 1),
    "4103": ("洛阳", 1),
    "4205": ("宜昌", 1),
    "3402": ("芜湖", 1),
}

_STREETS = "长江黄河人民解放建设和平胜利新华文化光明幸福友谊工业花园滨河中山团结振兴"
_STREET_KINDS = ("路", "街", "大道")
_INDUSTRIES = (
    "建工",
    "电子",
    "物流",
    "餐饮",
    "纺织",
    "机械",
    "服装",
    "家政服务",
    "保安服务",
    "商贸",
    "快递",
    "物业管理",
    "汽车配件",
    "食品",
    "建材",
    "装饰工程",
    "劳务派遣",
    "酒店管理",
)
_BRANDS = ("", "", "宏远", "鑫达", "永盛", "华安", "恒通", "顺发", "金源", "瑞丰", "新世纪", "长城")


@dataclass(frozen=True)
class Places:
    """The code lists, built once per process."""

    origin_counties: list[str]
    origin_cum: list[float]
    cities: list[str]
    city_cum: list[float]
    districts_by_city: dict[str, list[str]]
    xinjiang_counties: list[str]

    def hukou(self, rng: random.Random) -> str:
        return rng.choices(self.origin_counties, cum_weights=self.origin_cum)[0]

    def city(self, rng: random.Random, avoid_prefecture: str) -> str:
        """A destination city (prefecture prefix) other than the hukou's own."""
        while True:
            city = rng.choices(self.cities, cum_weights=self.city_cum)[0]
            if city != avoid_prefecture:
                return city

    def district(self, rng: random.Random, city: str, other_than: str | None = None) -> str:
        choices = [d for d in self.districts_by_city[city] if d != other_than] or self.districts_by_city[city]
        return rng.choice(choices)


@cache
def places() -> Places:
    table = region_table()
    counties = table.county_codes()
    by_province: dict[str, list[str]] = {}
    for code in counties:
        by_province.setdefault(code[:2], []).append(code)
    origin: list[str] = []
    weights: list[float] = []
    for province, weight in _ORIGIN_WEIGHTS.items():
        members = by_province.get(province, [])
        origin += members
        weights += [weight / len(members)] * len(members)
    districts = {city: [c for c in counties if c[:4] == city] for city in _DESTINATIONS}
    cities = [city for city in _DESTINATIONS if districts[city]]
    return Places(
        origin_counties=origin,
        origin_cum=list(accumulate(weights)),
        cities=cities,
        city_cum=list(accumulate(_DESTINATIONS[c][1] for c in cities)),
        districts_by_city=districts,
        xinjiang_counties=by_province["65"],
    )


@cache
def county_name(code: str) -> str:
    region = region_table().get(code)
    return region.current_name if region else code


@cache
def hukou_place(code: str) -> str:
    """The HR feed's 户籍所在地: province + prefecture + county names."""
    return region_table().full_name(code) or code


@cache
def province_name(code: str) -> str:
    return region_table().province_name(code) or ""


def street_address(rng: random.Random, district: str) -> str:
    """'惠济区长江大道272号9栋2305室', as the samples write a current address."""
    pair = 2 * rng.randrange(len(_STREETS) // 2)
    street = _STREETS[pair : pair + 2]
    floor, room = rng.randint(1, 30), rng.randint(1, 5)
    return f"{county_name(district)}{street}{rng.choice(_STREET_KINDS)}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{floor}{room:02d}室"


def hukou_address(code: str) -> str:
    """Public security writes the hukou address as the county plus a village, '盐源县某村'."""
    return county_name(code) + "某村"


def employer(rng: random.Random, district: str) -> str:
    """'郑州建工有限公司': city short name, sometimes a brand, an industry."""
    city = _DESTINATIONS.get(district[:4], ("", 0))[0]
    return f"{city}{rng.choice(_BRANDS)}{rng.choice(_INDUSTRIES)}有限公司"


def mobile_phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number, 13x–19x."""
    return f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
