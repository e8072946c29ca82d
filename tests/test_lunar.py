"""Vietnamese lunar calendar (UTC+7): Tết and festival dates residents know."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.lunar import LunarDate, leap_month, lunar_to_solar, solar_to_lunar, tet


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 2, 10)),
        (2025, date(2025, 1, 29)),
        (2026, date(2026, 2, 17)),
        (2027, date(2027, 2, 6)),
    ],
)
def test_tet_dates(year: int, expected: date) -> None:
    assert tet(year) == expected


def test_tet_1985_follows_vietnam_not_china() -> None:
    # Computed for UTC+7, Tết 1985 fell on 21/1/1985; China (UTC+8) celebrated on 20/2/1985.
    assert tet(1985) == date(1985, 1, 21)
    assert tet(1985) != date(1985, 2, 20)
    # Another year where the two calendars split: Vietnam 17/2/2007, China 18/2/2007.
    assert tet(2007) == date(2007, 2, 17)


def test_mid_autumn_2026() -> None:
    assert lunar_to_solar(15, 8, 2026) == date(2026, 9, 25)


def test_solar_to_lunar_on_tet_and_day_before() -> None:
    assert solar_to_lunar(date(2026, 2, 17)) == LunarDate(2026, 1, 1)
    eve = solar_to_lunar(date(2026, 2, 16))
    assert (eve.year, eve.month) == (2025, 12)


def test_leap_month_2025_is_sixth() -> None:
    assert leap_month(2025) == 6
    assert solar_to_lunar(date(2025, 7, 25)) == LunarDate(2025, 6, 1, leap=True)
    assert lunar_to_solar(1, 6, 2025, leap=True) == date(2025, 7, 25)
    assert leap_month(2026) is None


def test_nonexistent_lunar_dates_are_rejected() -> None:
    with pytest.raises(ValueError):
        lunar_to_solar(1, 6, 2026, leap=True)
    with pytest.raises(ValueError):
        lunar_to_solar(31, 1, 2026)


def test_round_trip_every_day_2000_to_2060() -> None:
    day = date(2000, 1, 1)
    while day < date(2060, 1, 1):
        lunar = solar_to_lunar(day)
        assert 1 <= lunar.day <= 30
        assert lunar_to_solar(lunar.day, lunar.month, lunar.year, lunar.leap) == day
        day += timedelta(days=1)
