import pytest

from linkage.standardise.names import NAME_HAD_SPACES, NAME_HAD_TRADITIONAL, NAME_NOT_CHINESE, name_pinyin, standardise_name


@pytest.mark.parametrize("raw", ["莫 伟文", "莫\u3000伟文", " 莫 伟文", "莫 伟 文"])
def test_spaces_inside_names_are_removed_and_flagged(raw: str) -> None:
    name, flags = standardise_name(raw)
    assert name == "莫伟文"
    assert NAME_HAD_SPACES in flags


def test_surrounding_spaces_alone_are_not_flagged() -> None:
    assert standardise_name(" 莫伟文 ") == ("莫伟文", ())


def test_traditional_characters_become_simplified() -> None:
    name, flags = standardise_name("陳偉")
    assert name == "陈伟" and NAME_HAD_TRADITIONAL in flags


def test_minority_name_keeps_one_separator_dot() -> None:
    name, flags = standardise_name("阿依古丽•买买提")
    assert name == "阿依古丽·买买提" and NAME_NOT_CHINESE not in flags


def test_latin_name_is_flagged_not_chinese() -> None:
    name, flags = standardise_name("ＪＯＨＮ")
    assert name == "JOHN" and NAME_NOT_CHINESE in flags


def test_empty_name_is_none() -> None:
    assert standardise_name("\u3000 ")[0] is None
    assert standardise_name(None) == (None, ())


def test_pinyin_is_toneless_and_homophones_agree() -> None:
    assert name_pinyin("张伟") == "zhang wei"
    assert name_pinyin("张伟") == name_pinyin("张玮")
    assert name_pinyin("阿依古丽·买买提") == "a yi gu li mai mai ti"


def test_surnames_are_read_as_surnames() -> None:
    assert name_pinyin("单雄信").startswith("shan ")
    assert name_pinyin("曾国藩").startswith("zeng ")
