"""Reading one campaign of a plan file, field by field, with a precise problem for each mistake.

``parse_campaign`` turns a raw YAML mapping into a ``Campaign`` (``scheduler.plan_model``) or
records what is wrong (file, campaign, field, expected). Used by ``scheduler.plan``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from scheduler.plan_model import (
    CAMPAIGN_FIELDS,
    ID_CHARS,
    LANGUAGES,
    LUNAR_ANCHORS,
    MINUTES_PER_DAY,
    REGIONS,
    STAFF_MESSAGE_PREFIX,
    STAFF_TOPIC,
    TOPICS,
    WEEKDAYS,
    Audience,
    Campaign,
    FixedWindow,
    LunarPoint,
    LunarWindow,
    Rhythm,
    Window,
    YearlyWindow,
)


class _Fields:
    """Reads one campaign's fields, recording each problem with file, campaign and field."""

    def __init__(self, label: str, campaign: str, problems: list[str]) -> None:
        self.label, self.campaign, self.problems = label, campaign, problems

    def bad(self, field: str, expected: str, got: Any = ...) -> None:
        tail = "" if got is ... else f", got {got!r}"
        self.problems.append(
            f"{self.label}: campaign {self.campaign!r}, field {field!r}: expected {expected}{tail}"
        )

    def mapping(self, value: Any, field: str, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(field, "a mapping", value)
            return None
        for key in value:
            if key not in allowed:
                self.bad(f"{field}.{key}", f"one of {', '.join(sorted(allowed))} (unknown field)")
        return value

    def integer(self, value: Any, field: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(field, f"a whole number from {low} to {high}", value)
            return None
        return value

    def clock(self, value: Any, field: str) -> time | None:
        # YAML 1.1 reads an unquoted 10:30 as the base-60 integer 630: accept that too.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MINUTES_PER_DAY:
            return time(value // 60, value % 60)
        try:
            hours, minutes = str(value).split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            self.bad(field, 'a time "HH:MM" (24-hour, Vietnam time)', value)
            return None

    def day_month(self, value: Any, field: str) -> tuple[int, int] | None:
        try:
            day, month = (int(x) for x in str(value).split("-"))
            date(2001, month, day)  # a non-leap year: 29-02 is rejected on purpose
            return day, month
        except ValueError:
            self.bad(field, 'a day and month "DD-MM" (not 29-02)', value)
            return None

    def full_date(self, value: Any, field: str) -> date | None:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.bad(field, "a date YYYY-MM-DD", value)
            return None

    def ids(self, value: Any, field: str) -> tuple[str, ...] | None:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.bad(field, "a non-empty list of names", value)
            return None
        return tuple(value)

    def flag(self, raw: dict[str, Any], field: str) -> bool:
        value = raw.get(field, False)
        if not isinstance(value, bool):
            self.bad(field, "true or false", value)
            return False
        return value


def _lunar_point(f: _Fields, value: Any, field: str) -> LunarPoint | None:
    if isinstance(value, str):
        if value in LUNAR_ANCHORS:
            return LunarPoint(*LUNAR_ANCHORS[value])
        f.bad(field, f"{' or '.join(LUNAR_ANCHORS)} or {{lunar_day, lunar_month}}", value)
        return None
    raw = f.mapping(value, field, {"lunar_day", "lunar_month", "leap"})
    if raw is None:
        return None
    day = f.integer(raw.get("lunar_day"), f"{field}.lunar_day", 1, 30)
    month = f.integer(raw.get("lunar_month"), f"{field}.lunar_month", 1, 12)
    leap = f.flag(raw, "leap") if "leap" in raw else False
    return None if day is None or month is None else LunarPoint(day, month, leap)


def _window(f: _Fields, value: Any) -> Window | None:
    raw = f.mapping(value, "window", {"fixed", "yearly", "lunar"})
    if raw is None:
        return None
    if len(raw) != 1:
        f.bad("window", "exactly one of fixed, yearly, lunar", sorted(raw))
        return None
    kind, body = next(iter(raw.items()))
    if kind not in {"fixed", "yearly", "lunar"}:
        return None  # already reported as an unknown field by f.mapping
    field = f"window.{kind}"
    if kind == "fixed":
        spec = f.mapping(body, field, {"start", "end"})
        if spec is None:
            return None
        start = f.full_date(spec.get("start"), f"{field}.start")
        end = f.full_date(spec.get("end"), f"{field}.end")
        if start and end and end < start:
            f.bad(f"{field}.end", f"a date on or after the start {start.isoformat()}", str(end))
            return None
        return FixedWindow(start, end) if start and end else None
    if kind == "yearly":
        spec = f.mapping(body, field, {"start", "end"})
        if spec is None:
            return None
        start = f.day_month(spec.get("start"), f"{field}.start")
        end = f.day_month(spec.get("end"), f"{field}.end")
        return YearlyWindow(start, end) if start and end else None
    spec = f.mapping(body, field, {"anchor", "start_offset_days", "end", "end_offset_days"})
    if spec is None:
        return None
    anchor = _lunar_point(f, spec.get("anchor"), f"{field}.anchor")
    start_offset = f.integer(spec.get("start_offset_days", 0), f"{field}.start_offset_days",
                             -366, 366)
    if ("end" in spec) == ("end_offset_days" in spec):
        f.bad(field, "exactly one of end: {lunar_day, lunar_month} or end_offset_days")
        return None
    end = end_offset = None
    if "end" in spec:
        end = _lunar_point(f, spec["end"], f"{field}.end")
        if end is None:
            return None
    else:
        end_offset = f.integer(spec["end_offset_days"], f"{field}.end_offset_days", -366, 366)
        if end_offset is None:
            return None
        if start_offset is not None and end_offset < start_offset:
            f.bad(f"{field}.end_offset_days", f"a number >= start_offset_days ({start_offset})",
                  end_offset)
            return None
    if anchor is None or start_offset is None:
        return None
    return LunarWindow(anchor, start_offset, end, end_offset)


def _rhythm(f: _Fields, value: Any) -> Rhythm | None:
    raw = f.mapping(value, "rhythm", {"daily", "weekly", "once"})
    if raw is None:
        return None
    if len(raw) != 1:
        f.bad("rhythm", "exactly one of daily, weekly, once", sorted(raw))
        return None
    kind, body = next(iter(raw.items()))
    if kind not in {"daily", "weekly", "once"}:
        return None  # already reported as an unknown field by f.mapping
    field = f"rhythm.{kind}"
    allowed = {
        "daily": {"time"},
        "weekly": {"days", "time"},
        "once": {"time", "date", "day_offset"},
    }
    spec = f.mapping(body, field, allowed[kind])
    if spec is None:
        return None
    at = f.clock(spec.get("time"), f"{field}.time")
    if kind == "daily":
        return Rhythm("daily", at) if at else None
    if kind == "weekly":
        days = spec.get("days")
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            f.bad(f"{field}.days", f"a list of {', '.join(WEEKDAYS)}", days)
            return None
        return Rhythm("weekly", at, tuple(sorted({WEEKDAYS[d] for d in days}))) if at else None
    if "date" in spec and "day_offset" in spec:
        f.bad(field, "either date or day_offset, not both")
        return None
    on_date = on_day_month = None
    offset = 0
    if "date" in spec:
        raw_date = spec["date"]
        if isinstance(raw_date, date) or str(raw_date).count("-") == 2:
            on_date = f.full_date(raw_date, f"{field}.date")
            if on_date is None:
                return None
        else:
            on_day_month = f.day_month(raw_date, f"{field}.date")
            if on_day_month is None:
                return None
    else:
        offset = f.integer(spec.get("day_offset", 0), f"{field}.day_offset", 0, 366)
        if offset is None:
            return None
    return Rhythm("once", at, (), offset, on_date, on_day_month) if at else None


def _audience(f: _Fields, value: Any, topic: str | None) -> Audience | None:
    if value is None:
        return Audience(subscribers_of=topic)
    raw = f.mapping(value, "audience", {"groups", "areas", "subscribers_of", "language", "staff"})
    if raw is None:
        return None
    if "staff" in raw:
        staff = f.flag(raw, "staff")
        if staff and set(raw) != {"staff"}:
            f.bad("audience", "staff: true alone (staff reminders go to the staff chats only)")
            return None
        if staff:
            return Audience(groups="none", subscribers_of=None, staff=True)
    groups = raw.get("groups", "all")
    if isinstance(groups, list):
        groups = f.ids(groups, "audience.groups")
        if groups is None:
            return None
    elif groups not in ("all", "none"):
        f.bad("audience.groups", "all, none, or a list of area codes", groups)
        return None
    areas = f.ids(raw["areas"], "audience.areas") if raw.get("areas") else ()
    subs = raw.get("subscribers_of", topic)
    if subs is not None and subs not in TOPICS:
        f.bad("audience.subscribers_of", f"a topic ({', '.join(sorted(TOPICS))}) or null", subs)
        return None
    language = raw.get("language", "any")
    if language not in LANGUAGES:
        f.bad("audience.language", "vi, en or any", language)
        return None
    return None if areas is None else Audience(groups, areas, subs, language)


def _check_once_fits(f: _Fields, rhythm: Rhythm, window: Window) -> None:
    """A ``once`` that can never fall inside its window would silently never send."""
    if rhythm.on_date is not None:
        if not isinstance(window, FixedWindow):
            f.bad("rhythm.once.date", 'a "DD-MM" day (a full date only fits a fixed window)',
                  rhythm.on_date.isoformat())
        elif not window.start <= rhythm.on_date <= window.end:
            f.bad("rhythm.once.date", "a date inside the window", rhythm.on_date.isoformat())
    elif rhythm.on_day_month is None and isinstance(window, FixedWindow | YearlyWindow):
        if isinstance(window, FixedWindow):
            days = (window.end - window.start).days
        else:  # measured in a non-leap year, wrapping into the next one
            start = date(2001, window.start[1], window.start[0])
            end = date(2001 + window.wraps, window.end[1], window.end[0])
            days = (end - start).days
        if rhythm.day_offset > days:
            f.bad("rhythm.once.day_offset", f"at most {days} (the window's length - 1)",
                  rhythm.day_offset)


def parse_campaign(raw: Any, label: str, index: int, problems: list[str]) -> Campaign | None:
    """One campaign from its YAML mapping, or None after appending its problems."""
    name = raw.get("id") if isinstance(raw, dict) else None
    f = _Fields(label, name if isinstance(name, str) else f"#{index + 1}", problems)
    if not isinstance(raw, dict):
        f.bad("(campaign)", "a mapping with id, topic, window, rhythm, messages", raw)
        return None
    before = len(problems)
    for key in raw:
        if key not in CAMPAIGN_FIELDS:
            f.bad(str(key), f"one of {', '.join(sorted(CAMPAIGN_FIELDS))} (unknown field)")
    if not isinstance(name, str) or not name or not set(name) <= ID_CHARS:
        f.bad("id", "lower-case letters, digits, '-' or '.'", name)
    topic = raw.get("topic")
    if topic not in TOPICS and topic != STAFF_TOPIC:
        f.bad("topic", f"one of {', '.join(sorted(TOPICS | {STAFF_TOPIC}))}", topic)
        topic = None
    window = _window(f, raw.get("window"))
    rhythm = _rhythm(f, raw.get("rhythm"))
    audience = _audience(f, raw.get("audience"), topic)
    messages = f.ids(raw.get("messages"), "messages")
    regions = f.ids(raw["regions"], "regions") if "regions" in raw else ()
    if regions and any(r not in REGIONS for r in regions):
        f.bad("regions", f"a list of {', '.join(REGIONS)}", list(regions))
    note = raw.get("note", "")
    if not isinstance(note, str):
        f.bad("note", "text", note)
    serves = raw.get("serves", "")
    if not isinstance(serves, str):
        f.bad("serves", "the name of the ward plan item, as text", serves)
        serves = ""
    if audience is not None and messages and topic:
        _check_staff_only(f, topic, audience, messages)
    urgent, draft = f.flag(raw, "urgent"), f.flag(raw, "draft")
    if rhythm and window and rhythm.kind == "once":
        _check_once_fits(f, rhythm, window)
    if len(problems) > before:
        return None
    assert window and rhythm and audience and messages and topic and regions is not None
    return Campaign(name, topic, window, rhythm, audience, messages, regions, urgent, draft,
                    note.strip(), label, serves.strip())


def _check_staff_only(f: _Fields, topic: str, audience: Audience,
                      messages: tuple[str, ...]) -> None:
    """Staff reminders never reach residents, and residents never get a staff message."""
    staff_messages = [m.startswith(STAFF_MESSAGE_PREFIX) for m in messages]
    if topic == STAFF_TOPIC or audience.staff or any(staff_messages):
        if not (topic == STAFF_TOPIC and audience.staff and all(staff_messages)):
            f.bad("audience", "topic: staff, audience: {staff: true} and only staff:... "
                  "messages together (a staff reminder must never reach residents)")
