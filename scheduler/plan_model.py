"""The communication plan's data: campaigns, their windows, rhythms and audiences.

The constants and types of ``scheduler.plan`` (which re-exports them); reading and checking the
files is ``scheduler.plan_parse`` and ``scheduler.plan``. Pure: no database, no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

TOPICS = frozenset({
    "dengue", "hfmd", "measles", "flu", "vaccination", "bhyt", "food-safety", "hypertension",
    "diabetes", "tobacco-alcohol", "health-check", "elderly", "school-health",
})
REGIONS = ("north", "central", "south")
LANGUAGES = frozenset({"vi", "en", "any"})
WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
LUNAR_ANCHORS = {"tet": (1, 1)}  # named anchors: (lunar day, lunar month)
CAMPAIGN_FIELDS = frozenset({
    "id", "topic", "window", "rhythm", "audience", "messages", "regions", "urgent", "draft", "note",
    "serves",
})
# Staff-only campaigns (report-deadline reminders): topic "staff", audience {staff: true}, and
# built-in messages "staff:<name>" (scheduler.report_reminders) instead of library entries.
STAFF_TOPIC = "staff"
STAFF_MESSAGE_PREFIX = "staff:"
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class FixedWindow:
    """Once, between two calendar dates (both inclusive)."""

    start: date
    end: date


@dataclass(frozen=True)
class YearlyWindow:
    """Every year from day/month to day/month (inclusive); wraps the year end when end < start."""

    start: tuple[int, int]  # (day, month)
    end: tuple[int, int]

    @property
    def wraps(self) -> bool:
        return (self.end[1], self.end[0]) < (self.start[1], self.start[0])


@dataclass(frozen=True)
class LunarPoint:
    """A day of the lunar year, e.g. (1, 1) for Tết, (15, 8) for Tết Trung thu."""

    day: int
    month: int
    leap: bool = False


@dataclass(frozen=True)
class LunarWindow:
    """Every lunar year, relative to an anchor: start = anchor + start_offset_days; end is either
    a lunar day (the first one on or after the anchor) or anchor + end_offset_days."""

    anchor: LunarPoint
    start_offset_days: int = 0
    end: LunarPoint | None = None
    end_offset_days: int | None = None


Window = FixedWindow | YearlyWindow | LunarWindow


@dataclass(frozen=True)
class Rhythm:
    """When inside a window: ``daily``, ``weekly`` on ``weekdays`` (0 = Monday) or ``once``
    (on ``on_date`` / ``on_day_month`` if given, else window start + ``day_offset`` days)."""

    kind: str
    at: time
    weekdays: tuple[int, ...] = ()
    day_offset: int = 0
    on_date: date | None = None
    on_day_month: tuple[int, int] | None = None


@dataclass(frozen=True)
class Audience:
    """Who receives it: resident group chats (``"all"``, ``"none"`` or area codes), private
    subscribers of a topic (None: nobody in private), limited to ``areas`` (empty: all areas)
    and to a language (``"any"``: everyone)."""

    groups: str | tuple[str, ...] = "all"
    areas: tuple[str, ...] = ()
    subscribers_of: str | None = None
    language: str = "any"
    staff: bool = False  # the station's staff chats only, never residents

    def to_dict(self) -> dict[str, Any]:
        groups = self.groups if isinstance(self.groups, str) else list(self.groups)
        out: dict[str, Any] = {
            "groups": groups,
            "areas": list(self.areas),
            "subscribers_of": self.subscribers_of,
            "language": self.language,
        }
        if self.staff:
            out["staff"] = True
        return out

    def describe(self) -> str:
        if self.staff:
            return "staff"
        groups = self.groups if isinstance(self.groups, str) else ",".join(self.groups)
        parts = [f"groups={groups}"]
        if self.subscribers_of:
            parts.append(f"subs={self.subscribers_of}")
        if self.areas:
            parts.append(f"areas={','.join(self.areas)}")
        if self.language != "any":
            parts.append(f"lang={self.language}")
        return " ".join(parts)


@dataclass(frozen=True)
class Campaign:
    id: str
    topic: str
    window: Window
    rhythm: Rhythm
    audience: Audience
    messages: tuple[str, ...]
    regions: tuple[str, ...] = ()  # empty: every region
    urgent: bool = False
    draft: bool = False
    note: str = ""
    source: str = ""
    serves: str = ""  # the ward plan item this campaign carries out (reports count per item)

