"""Deadlines in working hours on the station's calendar (working days, hours, Vietnamese holidays).

Public holidays, including Tết, come from the maintained `holidays` library (`holidays.Vietnam`),
which also knows the substitute days off the government announces. By default a ticket must be
accepted within 8 working hours (urgent: 4) and resolved within 5 working days; a working day is
the station's daily working hours (07:00–11:30 and 13:30–17:00 make 8 hours), so "5 working days"
ends at the same working moment 5 working days later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.config import Settings

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
# A calendar with no working time at all would loop forever; give up after this many days.
MAX_SEARCH_DAYS = 3660


def _span(text: str) -> tuple[time, time]:
    start, _sep, end = text.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


@dataclass
class WorkingCalendar:
    """When the station works: weekdays, daily spans, minus public holidays."""

    working_days: frozenset[int]
    spans: tuple[tuple[time, time], ...]
    tz: ZoneInfo
    public_holidays: holidays.HolidayBase = field(default_factory=holidays.Vietnam)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingCalendar:
        fb = settings.feedback
        return _calendar(tuple(fb.working_days), tuple(fb.working_hours), settings.station.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.public_holidays

    @property
    def hours_per_day(self) -> float:
        return sum(_minutes(a, b) for a, b in self.spans) / 60

    def _day_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, a, tzinfo=self.tz), datetime.combine(day, b, tzinfo=self.tz))
            for a, b in self.spans
        ]

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start` (aware; returned in UTC)."""
        local = start.astimezone(self.tz)
        remaining = timedelta(hours=hours)
        day = local.date()
        for _ in range(MAX_SEARCH_DAYS):
            for span_start, span_end in self._day_spans(day):
                if local >= span_end:
                    continue
                begin = max(local, span_start)
                available = span_end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(ZoneInfo("UTC"))
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working time")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        return self.add_working_hours(start, days * self.hours_per_day)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.working_time_between(end, start)
        a, b = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            for span_start, span_end in self._day_spans(day):
                lo, hi = max(a, span_start), min(b, span_end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


@cache
def _calendar(days: tuple[str, ...], hours: tuple[str, ...], tz: str) -> WorkingCalendar:
    """One calendar per configuration: the holiday table is built once per year, then reused."""
    return WorkingCalendar(
        working_days=frozenset(WEEKDAYS[d.lower()[:3]] for d in days),
        spans=tuple(sorted(_span(s) for s in hours)),
        tz=ZoneInfo(tz),
    )


def _minutes(a: time, b: time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


@dataclass(frozen=True)
class Deadlines:
    accept_due: datetime
    resolve_due: datetime


def accept_hours(settings: Settings, urgency: str) -> int:
    fb = settings.feedback
    return fb.urgent_accept_hours if urgency == "urgent" else fb.accept_hours


def deadlines_for(
    settings: Settings, urgency: str, filed_at: datetime, calendar: WorkingCalendar | None = None
) -> Deadlines:
    """When a ticket filed at `filed_at` must be accepted and resolved."""
    cal = calendar or WorkingCalendar.from_settings(settings)
    return Deadlines(
        accept_due=cal.add_working_hours(filed_at, accept_hours(settings, urgency)),
        resolve_due=cal.add_working_days(filed_at, settings.feedback.resolve_working_days),
    )
