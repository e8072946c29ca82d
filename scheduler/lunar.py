"""The Vietnamese lunar calendar (âm lịch), computed for Vietnam's time zone (UTC+7).

Written from Hồ Ngọc Đức's published astronomical algorithm ("Thuật toán tính âm lịch"):
new moons from Meeus-style series, the sun's longitude for the solar terms, month 11 as the month
that holds the winter solstice, and a leap month as the first month without a major solar term in a
13-month year. Every computation is done for ``TIME_ZONE = 7``. The Chinese calendar uses UTC+8 and
therefore differs in some years (Tết 1985 was 21/1/1985 in Vietnam and 20/2/1985 in China), so a
Chinese-calendar library is not a substitute.

Valid for roughly 1800–2199; campaigns only need the current and next few years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

TIME_ZONE = 7  # hours east of UTC; Vietnam's lunar calendar is defined for this offset
SYNODIC_MONTH = 29.530588853  # mean days between new moons
JD_EPOCH_NEW_MOON = 2415021.076998695  # Julian day of the mean new moon of 1/1/1900
JD_1900 = 2415021  # Julian day number of 31/12/1899 12:00, the algorithm's month-11 epoch
ORDINAL_TO_JD = 1721425  # date.toordinal() + this = Julian day number (proleptic Gregorian)
MAX_MONTHS_SCAN = 14  # a lunar year never needs more months to find its leap month


@dataclass(frozen=True, order=True)
class LunarDate:
    """A day of the Vietnamese lunar calendar; ``year`` is the lunar year (Tết starts it)."""

    year: int
    month: int
    day: int
    leap: bool = False


def _jd(d: date) -> int:
    return d.toordinal() + ORDINAL_TO_JD


def _from_jd(jd: int) -> date:
    return date.fromordinal(jd - ORDINAL_TO_JD)


def _new_moon(k: int) -> float:
    """Julian day (UT) of the k-th new moon after 1/1/1900."""
    t = k / 1236.85
    t2 = t * t
    t3 = t2 * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _new_moon_day(k: int) -> int:
    """Julian day number of the local (UTC+7) day holding the k-th new moon."""
    return math.floor(_new_moon(k) + 0.5 + TIME_ZONE / 24)


def _sun_longitude(jdn: float) -> float:
    """The sun's apparent longitude in radians, 0..2π, at Julian day ``jdn`` (UT)."""
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    lon = (l0 + dl) * dr
    return lon - math.pi * 2 * math.floor(lon / (math.pi * 2))


def _sun_sector(day_number: int) -> int:
    """Which of the 12 major solar-term sectors (0..11) the sun is in at the start of the day."""
    return math.floor(_sun_longitude(day_number - 0.5 - TIME_ZONE / 24) / math.pi * 6)


def _month11(year: int) -> int:
    """Julian day number of the first day of lunar month 11 (holding the winter solstice)."""
    off = _jd(date(year, 12, 31)) - JD_1900
    k = math.floor(off / SYNODIC_MONTH)
    nm = _new_moon_day(k)
    if _sun_sector(nm) >= 9:
        nm = _new_moon_day(k - 1)
    return nm


def _leap_month_offset(a11: int) -> int:
    """Offset (in months after month 11) of the leap month in a 13-month lunar year."""
    k = math.floor((a11 - JD_EPOCH_NEW_MOON) / SYNODIC_MONTH + 0.5)
    i = 1
    arc = _sun_sector(_new_moon_day(k + i))
    while True:
        last = arc
        i += 1
        arc = _sun_sector(_new_moon_day(k + i))
        if arc == last or i >= MAX_MONTHS_SCAN:
            break
    return i - 1


def solar_to_lunar(day: date) -> LunarDate:
    """Convert a Gregorian date to the Vietnamese lunar date."""
    day_number = _jd(day)
    k = math.floor((day_number - JD_EPOCH_NEW_MOON) / SYNODIC_MONTH)
    month_start = _new_moon_day(k + 1)
    # The published code steps back once; the mean-month estimate of k can be one month high
    # near a new moon (e.g. 7/5/2054 came out as "day 0"), so step back until the month has begun.
    while month_start > day_number:
        k -= 1
        month_start = _new_moon_day(k + 1)
    a11 = _month11(day.year)
    b11 = a11
    if a11 >= month_start:
        lunar_year = day.year
        a11 = _month11(day.year - 1)
    else:
        lunar_year = day.year + 1
        b11 = _month11(day.year + 1)
    lunar_day = day_number - month_start + 1
    diff = math.floor((month_start - a11) / 29)
    leap = False
    lunar_month = diff + 11
    if b11 - a11 > 365:
        leap_diff = _leap_month_offset(a11)
        if diff >= leap_diff:
            lunar_month = diff + 10
            leap = diff == leap_diff
    if lunar_month > 12:
        lunar_month -= 12
    if lunar_month >= 11 and diff < 4:
        lunar_year -= 1
    return LunarDate(lunar_year, lunar_month, lunar_day, leap)


def _month_start(month: int, year: int, leap: bool) -> int:
    """Julian day number of day 1 of the given lunar month; ValueError if it does not exist."""
    if not 1 <= month <= 12:
        raise ValueError(f"lunar month must be 1..12, got {month}")
    if month < 11:
        a11, b11 = _month11(year - 1), _month11(year)
    else:
        a11, b11 = _month11(year), _month11(year + 1)
    k = math.floor(0.5 + (a11 - JD_EPOCH_NEW_MOON) / SYNODIC_MONTH)
    off = (month - 11) % 12
    if b11 - a11 > 365:
        leap_off = _leap_month_offset(a11)
        leap_month = (leap_off - 2) % 12
        if leap and month != leap_month:
            raise ValueError(f"lunar year {year} has no leap month {month}")
        if leap or off >= leap_off:
            off += 1
    elif leap:
        raise ValueError(f"lunar year {year} has no leap month")
    return _new_moon_day(k + off)


def lunar_month_length(month: int, year: int, leap: bool = False) -> int:
    """Number of days (29 or 30) in a lunar month."""
    start = _month_start(month, year, leap)
    k = math.floor((start - JD_EPOCH_NEW_MOON) / SYNODIC_MONTH + 0.5)
    nxt = _new_moon_day(k + 1)
    if nxt <= start:  # k rounded one month low
        nxt = _new_moon_day(k + 2)
    return nxt - start


def lunar_to_solar(day: int, month: int, year: int, leap: bool = False) -> date:
    """Gregorian date of lunar ``day/month`` in lunar ``year``; ValueError if it does not exist."""
    start = _month_start(month, year, leap)
    if not 1 <= day <= lunar_month_length(month, year, leap):
        raise ValueError(f"lunar month {month}/{year} has no day {day}")
    return _from_jd(start + day - 1)


def tet(year: int) -> date:
    """Tết Nguyên đán (1st day of the 1st lunar month) that falls in Gregorian ``year``."""
    return lunar_to_solar(1, 1, year)


def leap_month(year: int) -> int | None:
    """The leap month of lunar ``year`` (e.g. 6 for 2025), or None in a 12-month year."""
    for month in range(1, 13):
        try:
            _month_start(month, year, True)
        except ValueError:
            continue
        return month
    return None


__all__ = [
    "LunarDate",
    "TIME_ZONE",
    "leap_month",
    "lunar_month_length",
    "lunar_to_solar",
    "solar_to_lunar",
    "tet",
]

