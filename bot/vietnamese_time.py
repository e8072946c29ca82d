"""Read a date and time the way a nurse types it: "mai 8h", "thứ 6 tuần sau 7h30", "1/12 8:00",
"20h hôm nay", "cuối tháng", "sáng mai", with or without diacritics.

`parse_moment(text, now)` returns a `Moment` (aware UTC, and whether a time was typed) or None.
The reader always echoes the result with its weekday, so a wrong guess is seen before sending.
Rules where Vietnamese leaves a choice (written down so the echo can be trusted):
- no time typed: 08:00 (or the start of the part of day: sáng 08:00, trưa 12:00, chiều 14:00,
  tối 19:00);
- a time alone ("20h"): today if still ahead, else tomorrow;
- a weekday alone ("thứ Hai"): the next such day, today if the time is still ahead;
  "tuần sau"/"tuần tới" moves it into next week (weeks start on Monday), "tuần này" keeps it in this one;
- "15/12" without a year: this year, or next year once that day has passed;
- chiều/tối/đêm turn 1–11 into the afternoon or evening ("7h tối" = 19:00), trưa 1–4 too.
dateparser was tried first and read neither "thứ 6 tuần sau" nor "sáng mai 8h", hence this module.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.i18n import TIMEZONE
from content.normalize import fold

WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}
PARTS = {"sang": 8, "trua": 12, "chieu": 14, "toi": 19, "dem": 21}
DEFAULT_HOUR = 8

_DATE_NUMERIC = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?\b")
_DATE_WORDS = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})(?:\s+nam\s+(\d{4}))?\b")
_TIME = re.compile(
    r"\b(\d{1,2})\s*(?:gio|h|g|:)\s*(\d{1,2}|ruoi|kem\s+\d{1,2})?(?:\s*(?:phut|ph|p)\b)?(?![\d/])"
)
_WEEKDAY = re.compile(r"\b(?:thu\s*(hai|ba|tu|nam|sau|bay|[2-7])|t([2-7])|chu\s*nhat|cn)\b")


@dataclass(frozen=True)
class Moment:
    at: datetime  # aware UTC
    time_given: bool

    def local(self) -> datetime:
        return self.at.astimezone(TIMEZONE)


def parse_moment(text: str, now: datetime) -> Moment | None:
    """The moment `text` names, seen from `now` (aware); None when it names none."""
    folded = " " + re.sub(r"\s+", " ", fold(text).replace(",", " ")) + " "
    today = now.astimezone(TIMEZONE).date()
    # "tuần tới"/"tháng tới" (next week/month) fold to the same "toi" as "tối" (evening).
    unparted = re.sub(r"\b(tuan|thang)\s+toi\b", " ", folded)
    part = next((p for p in PARTS if re.search(rf"\b{p}\b", unparted)), None)

    day, rest = _read_date(folded, today)
    clock, rest = _read_time(rest, part)
    if day is None and clock is None:
        return None
    if re.search(r"\d", rest):  # a number left over: something we did not understand
        return None
    time_given = clock is not None
    hour_minute = clock or time(PARTS.get(part or "", DEFAULT_HOUR), 0)
    if day is None:  # a time alone: today if still ahead, else tomorrow
        day = today
        if _at(day, hour_minute) <= now:
            day = today + timedelta(days=1)
    elif isinstance(day, _Weekday):
        day = day.resolve(today, hour_minute, now)
    return Moment(_at(day, hour_minute), time_given)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=TIMEZONE).astimezone(UTC)


@dataclass(frozen=True)
class _Weekday:
    weekday: int  # Monday 0
    week: str  # "" (the next one), "this", "next"

    def resolve(self, today: date, clock: time, now: datetime) -> date:
        monday = today - timedelta(days=today.weekday())
        if self.week == "next":
            return monday + timedelta(days=7 + self.weekday)
        if self.week == "this":
            return monday + timedelta(days=self.weekday)
        ahead = (self.weekday - today.weekday()) % 7
        day = today + timedelta(days=ahead)
        if _at(day, clock) <= now:
            day += timedelta(days=7)
        return day


def _read_date(text: str, today: date) -> tuple[date | _Weekday | None, str]:
    for pattern in (_DATE_WORDS, _DATE_NUMERIC):
        match = pattern.search(text)
        if match and not _looks_like_time(text, match):
            day_n, month_n = int(match.group(1)), int(match.group(2))
            year = _year(match.group(3), today)
            try:
                day = date(year or today.year, month_n, day_n)
            except ValueError:
                return None, text
            if year is None and day < today:
                try:
                    day = date(today.year + 1, month_n, day_n)
                except ValueError:
                    return None, text
            return day, _cut(text, match)
    next_week = re.search(r"\btuan\s+(sau|toi)\b", text)
    this_week = re.search(r"\btuan\s+nay\b", text)
    match = _WEEKDAY.search(text)
    if match:
        word = match.group(1) or match.group(2)
        weekday = 6 if word is None else (int(word) - 2 if word.isdigit() else WEEKDAY_WORDS[word])
        rest = _cut(text, match)
        week = ""
        if next_week:
            week, rest = "next", re.sub(r"\btuan\s+(sau|toi)\b", " ", rest)
        elif this_week:
            week, rest = "this", re.sub(r"\btuan\s+nay\b", " ", rest)
        return _Weekday(weekday, week), rest
    relative = (
        (r"\b(ngay\s+)?mot\b(?!\s*(gio|h|g)\b)|\bngay\s+kia\b", 2),
        (r"\b(ngay\s+)?mai\b", 1),
        (r"\b(hom\s+)?nay\b", 0),
    )
    for pattern, days in relative:
        found = re.search(pattern, text)
        if found:
            return today + timedelta(days=days), _cut(text, found)
    month_end = re.search(r"\bcuoi\s+thang(\s+nay)?\b", text)
    if month_end:
        last = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=last), _cut(text, month_end)
    next_month = re.search(r"\b(dau\s+)?thang\s+(sau|toi)\b", text)
    if next_month:
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return first, _cut(text, next_month)
    if next_week and re.search(r"\bdau\s+tuan\s+(sau|toi)\b|^\s*tuan\s+(sau|toi)\s*$", text):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday, _cut(text, next_week)
    weekend = re.search(r"\bcuoi\s+tuan(\s+nay)?\b", text)
    if weekend:
        return _Weekday(5, "this" if today.weekday() <= 5 else ""), _cut(text, weekend)
    return None, text


def _looks_like_time(text: str, match: re.Match[str]) -> bool:
    """"8.30" or "8-9h" is a time, not a date: a date's separators are followed by no "h"."""
    after = text[match.end():match.end() + 2]
    return bool(re.match(r"\s*(h|g)\b", after)) or (
        match.group(3) is None and "." in match.group(0) and int(match.group(2)) > 12)


def _year(raw: str | None, today: date) -> int | None:
    if raw is None:
        return None
    year = int(raw)
    return year + 2000 if year < 100 else year


def _read_time(text: str, part: str | None) -> tuple[time | None, str]:
    match = _TIME.search(text)
    if match is None:
        return None, text
    hour = int(match.group(1))
    raw_minute = (match.group(2) or "0").strip()
    minute = 30 if raw_minute == "ruoi" else int(raw_minute) if raw_minute.isdigit() else 0
    if raw_minute.startswith("kem"):  # "9 giờ kém 15" = 08:45
        hour, minute = hour - 1, 60 - int(raw_minute.split()[-1])
    if part in ("chieu", "toi") and 1 <= hour <= 11:
        hour += 12
    elif part == "dem" and 7 <= hour <= 11:
        hour += 12
    elif part == "trua" and 1 <= hour <= 4:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None, text
    return time(hour, minute), _cut(text, match)


def _cut(text: str, match: re.Match[str]) -> str:
    return text[:match.start()] + " " + text[match.end():]
