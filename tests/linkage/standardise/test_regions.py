import pytest

from linkage.standardise.regions import region_table, validate_region_code


def test_codes_of_every_era_are_known() -> None:
    table = region_table()
    assert table.is_known("410108")  # 惠济区
    assert table.is_known("430124")  # 宁乡县, abolished 2017
    assert not table.is_known("430124", year=2020)
    assert not table.is_known("999999")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("河北省廊坊市文安县", "131026"),
        ("四川省凉山彝族自治州盐源县", "513423"),
        ("重庆市市辖区大渡口区", "500104"),  # municipalities write 市辖区 where a prefecture would be
        ("北京市东城区", "110101"),
        ("湖南省长沙市宁乡县", "430124"),  # the name before 2017
        ("湖南省长沙市宁乡市", "430182"),  # and after
        ("内蒙古 自治区包头市石拐区", "150205"),
    ],
)
def test_hukou_place_text_maps_to_its_code(text: str, code: str) -> None:
    assert region_table().code_for_place(text) == code


def test_unknown_place_maps_to_nothing() -> None:
    assert region_table().code_for_place("火星省某市某县") is None
    assert region_table().code_for_place("") is None


def test_province_names() -> None:
    assert region_table().province_code("吉林省") == "220000"
    assert region_table().province_code("新疆") == "650000"
    assert region_table().full_name("410108") == "河南省郑州市惠济区"


def test_validate_region_code() -> None:
    assert validate_region_code(" 410108 ") == "410108"
    assert validate_region_code("41010") is None
    assert validate_region_code(None) is None
