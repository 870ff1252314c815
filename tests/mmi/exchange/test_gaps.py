from mmi.exchange.gaps import Gap, gaps_after


def test_numbers_read_past_become_gaps() -> None:
    assert gaps_after([], [], 0, [1, 2, 5, 9]) == [Gap(3, 4), Gap(6, 8)]
    assert gaps_after([], [], 10, [13]) == [Gap(11, 12)]
    assert gaps_after([], [], 0, []) == []


def test_events_found_in_gaps_split_or_close_them() -> None:
    gaps = [Gap(3, 4), Gap(6, 8), Gap(20, 20)]
    assert gaps_after(gaps, [3, 7, 20], 21, [22]) == [Gap(4, 4), Gap(6, 6), Gap(8, 8)]
    assert gaps_after(gaps, [3, 4, 6, 7, 8, 20], 21, [23]) == [Gap(22, 22)]
    assert gaps_after([Gap(1, 1_000_000)], [500_000], 2_000_000, []) == [Gap(1, 499_999), Gap(500_001, 1_000_000)]
