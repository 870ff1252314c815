import datetime as dt

import pytest

from linkage.standardise.idnumber import (
    ID_BIRTH_DATE_INVALID,
    ID_CHECK_FAILED,
    ID_LOWERCASE_X,
    ID_MALFORMED,
    ID_REGION_UNKNOWN,
    ID_UPGRADED_FROM_15,
    check_character,
    parse_id_number,
    parse_masked_id,
    to_15,
    upgrade_15_to_18,
)


def test_the_standards_example_is_valid_and_reads_birth_date_sex_and_region() -> None:
    number = parse_id_number("11010519491231002X")
    assert number.number == "11010519491231002X"
    assert number.valid and number.flags == ()
    assert number.birth_date == dt.date(1949, 12, 31)
    assert number.sex == "2"  # sequence 002 is even
    assert number.region == "110105"


def test_check_character_follows_mod_11_2() -> None:
    assert check_character("11010519491231002") == "X"
    assert check_character("34152520100419995") == "6"


def test_lower_case_x_is_upper_cased_and_flagged() -> None:
    number = parse_id_number("11010519491231002x")
    assert number.number == "11010519491231002X"
    assert number.valid
    assert ID_LOWERCASE_X in number.flags


def test_fifteen_digit_card_upgrades_to_eighteen() -> None:
    assert upgrade_15_to_18("131026820803340") == "131026198208033400"
    number = parse_id_number("131026820803340")
    assert number.number == "131026198208033400" and number.valid
    assert ID_UPGRADED_FROM_15 in number.flags
    assert to_15(number.number) == "131026820803340"


def test_a_failed_check_is_kept_and_flagged_not_dropped() -> None:
    number = parse_id_number("110105194912310021")
    assert number.number == "110105194912310021"
    assert not number.valid
    assert ID_CHECK_FAILED in number.flags


def test_a_mistyped_year_is_an_invalid_birth_date() -> None:
    number = parse_id_number("520111918203294938")  # 1982 typed as 9182
    assert not number.valid
    assert ID_BIRTH_DATE_INVALID in number.flags and number.birth_date is None


def test_unknown_region_is_flagged() -> None:
    first17 = "99999919900101001"
    number = parse_id_number(first17 + check_character(first17))
    assert ID_REGION_UNKNOWN in number.flags and not number.valid


@pytest.mark.parametrize("raw", ["１１０１０５１９４９１２３１００２Ｘ", " 110105 19491231 002X "])
def test_full_width_digits_and_spaces_are_normalised(raw: str) -> None:
    assert parse_id_number(raw).number == "11010519491231002X"


@pytest.mark.parametrize("raw", ["abc", "1101051949123100", "11010519491231002Y"])
def test_malformed_numbers_give_no_number(raw: str) -> None:
    number = parse_id_number(raw)
    assert number.number is None and ID_MALFORMED in number.flags


def test_missing_number_is_none_without_flags() -> None:
    assert parse_id_number(None).number is None
    assert parse_id_number("  ").flags == ()


def test_masked_statistics_id_keeps_region_and_tail() -> None:
    masked = parse_masked_id("410105********123x")
    assert masked is not None and (masked.region, masked.tail) == ("410105", "123X")
    assert parse_masked_id("410105*******123X") is None
    assert parse_masked_id(None) is None
