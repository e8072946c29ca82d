"""Turn a plan into dated occurrences: when each campaign fires, to whom, with which message.

Pure functions over ``scheduler.plan.Plan``. Times are computed in Asia/Ho_Chi_Minh (no DST) and
returned as aware datetimes. Quiet hours (default 21:00–07:00) move an ordinary occurrence to the
moment they end; urgent campaigns pass. The dedupe key is built from the *planned* local time, so it
stays the same when quiet hours are reconfigured and a restart never creates a second key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.lunar import lunar_month_length, lunar_to_solar
from scheduler.plan import (
    Audience,
    Campaign,
    FixedWindow,
    LunarPoint,
    LunarWindow,
    Plan,
    YearlyWindow,
)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(7, 0)
QUIET_MARGIN = timedelta(days=1)  # quiet hours last < 1 day, so look back this far for held ones
LOOKAHEAD_CHUNK = timedelta(days=31)
MAX_LOOKAHEAD = timedelta(days=800)  # > 2 years: a yearly or lunar window always recurs within it


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which ordinary broadcasts are held; ``start == end`` disables them."""

    start: time = DEFAULT_QUIET_START
    end: time = DEFAULT_QUIET_END
    tz: ZoneInfo = field(default=VN_TZ)

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None:
            raise ValueError("QuietHours needs an aware datetime (naive times are ambiguous)")
        return dt.astimezone(self.tz)

    def holds(self, dt: datetime) -> bool:
        """True when ``dt`` falls inside quiet hours (start inclusive, end exclusive)."""
        clock = self._local(dt).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def release_time(self, dt: datetime) -> datetime:
        """When a message due at ``dt`` may go: ``dt`` itself, or the end of the quiet hours."""
        local = self._local(dt)
        if not self.holds(local):
            return local
        release = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if release <= local:
            release = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return release


@dataclass(frozen=True)
class Occurrence:
    """One firing of a campaign: ``at`` is when it may be sent (after quiet hours)."""

    campaign_id: str
    topic: str
    at: datetime
    audience: Audience
    message_id: str
    urgent: bool
    dedupe_key: str
    planned_at: datetime
    serves: str = ""  # the ward plan item (Campaign.serves)

    def to_dict(self) -> dict[str, Any]:
        return {
            "serves": self.serves,
            "campaign": self.campaign_id,
            "at": self.at.isoformat(),
            "planned_at": self.planned_at.isoformat(),
            "topic": self.topic,
            "audience": self.audience.to_dict(),
            "message": self.message_id,
            "urgent": self.urgent,
            "dedupe_key": self.dedupe_key,
        }


def _lunar_day(point: LunarPoint, lunar_year: int) -> date | None:
    """The solar date of a lunar point; day 30 of a 29-day month means its last day."""
    try:
        length = lunar_month_length(point.month, lunar_year, point.leap)
    except ValueError:  # no such leap month this year
        return None
    return lunar_to_solar(min(point.day, length), point.month, lunar_year, point.leap)


def _window_instances(campaign: Campaign, first: date, last: date) -> Iterator[tuple[date, date]]:
    window = campaign.window
    if isinstance(window, FixedWindow):
        yield window.start, window.end
        return
    years = range(first.year - 1, last.year + 2)
    if isinstance(window, YearlyWindow):
        for year in years:
            start = date(year, window.start[1], window.start[0])
            end = date(year + window.wraps, window.end[1], window.end[0])
            yield start, end
        return
    assert isinstance(window, LunarWindow)
    for year in years:
        anchor = _lunar_day(window.anchor, year)
        if anchor is None:
            continue
        start = anchor + timedelta(days=window.start_offset_days)
        if window.end_offset_days is not None:
            end: date | None = anchor + timedelta(days=window.end_offset_days)
        else:
            assert window.end is not None
            later = (window.end.month, window.end.day) >= (window.anchor.month, window.anchor.day)
            end = _lunar_day(window.end, year if later else year + 1)
        if end is not None and end >= start:
            yield start, end


def campaign_windows(campaign: Campaign, first: date, last: date) -> list[tuple[date, date]]:
    """The campaign's windows (start, end; both inclusive) that overlap ``first``..``last``."""
    return sorted(
        (start, end)
        for start, end in _window_instances(campaign, first, last)
        if start <= last and end >= first
    )


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _planned_days(campaign: Campaign, start: date, end: date) -> list[date]:
    rhythm = campaign.rhythm
    if rhythm.kind == "daily":
        return list(_days(start, end))
    if rhythm.kind == "weekly":
        return [d for d in _days(start, end) if d.weekday() in rhythm.weekdays]
    if rhythm.on_date is not None:
        candidates = [rhythm.on_date]
    elif rhythm.on_day_month is not None:
        day, month = rhythm.on_day_month
        candidates = sorted({date(y, month, day) for y in (start.year, end.year)})
    else:
        candidates = [start + timedelta(days=rhythm.day_offset)]
    return [d for d in candidates if start <= d <= end]


def _aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")


def occurrences(
    plan: Plan,
    start: datetime,
    end: datetime,
    tz: ZoneInfo = VN_TZ,
    quiet: QuietHours = QuietHours(DEFAULT_QUIET_START, DEFAULT_QUIET_END),  # noqa: B008
) -> list[Occurrence]:
    """Every occurrence whose send time ``at`` lies in ``[start, end)``, sorted by time."""
    _aware(start, "start")
    _aware(end, "end")
    first = (start.astimezone(tz) - QUIET_MARGIN).date()
    last = end.astimezone(tz).date()
    found: dict[str, Occurrence] = {}
    for campaign in plan.campaigns:
        for window_start, window_end in campaign_windows(campaign, first, last):
            days = _planned_days(campaign, window_start, window_end)
            for index, day in enumerate(days):
                planned = datetime.combine(day, campaign.rhythm.at, tzinfo=tz)
                at = planned if campaign.urgent else quiet.release_time(planned).astimezone(tz)
                if not start <= at < end:
                    continue
                key = f"campaign:{campaign.id}:{planned:%Y-%m-%dT%H:%M}"
                found.setdefault(
                    key,
                    Occurrence(
                        campaign_id=campaign.id,
                        topic=campaign.topic,
                        at=at,
                        audience=campaign.audience,
                        message_id=campaign.messages[index % len(campaign.messages)],
                        urgent=campaign.urgent,
                        dedupe_key=key,
                        planned_at=planned,
                        serves=campaign.serves,
                    ),
                )
    return sorted(found.values(), key=lambda o: (o.at, o.campaign_id))


def next_occurrences_after(
    plan: Plan,
    t: datetime,
    tz: ZoneInfo = VN_TZ,
    quiet: QuietHours = QuietHours(DEFAULT_QUIET_START, DEFAULT_QUIET_END),  # noqa: B008
) -> list[Occurrence]:
    """The occurrences at the earliest send time strictly after ``t`` (several campaigns may
    share it); empty when nothing fires within ``MAX_LOOKAHEAD``. For the scheduler's next job."""
    _aware(t, "t")
    chunk_start = t
    while chunk_start - t < MAX_LOOKAHEAD:
        chunk_end = chunk_start + LOOKAHEAD_CHUNK
        upcoming = [o for o in occurrences(plan, chunk_start, chunk_end, tz, quiet) if o.at > t]
        if upcoming:
            first_at = upcoming[0].at
            return [o for o in upcoming if o.at == first_at]
        chunk_start = chunk_end
    return []


__all__ = [
    "Occurrence",
    "QuietHours",
    "VN_TZ",
    "campaign_windows",
    "next_occurrences_after",
    "occurrences",
]
