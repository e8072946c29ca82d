"""The communication plan as data: campaign files in ``content/plans/*.yaml``, loaded and validated.

A campaign says *what* (topic, library messages to rotate), *when* (a date window: fixed dates, a
yearly day-month range, or anchored to the Vietnamese lunar calendar; and a rhythm inside it),
*to whom* (audience) and *where* (regions). This module only reads and checks the files; turning a
plan into dated occurrences is ``scheduler.occurrences``. Pure: no database, no network.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml

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

DEFAULT_PLAN_DIR = Path(__file__).resolve().parent.parent / "content" / "plans"
DEFAULT_REGION = "north"
PLAN_FILE_GLOB = "*.yaml"
TOP_LEVEL_FIELDS = frozenset({"version", "description", "campaigns"})


class PlanError(ValueError):
    """The plan files are invalid; ``problems`` lists each one (file, campaign, field, expected)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Invalid plan:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass(frozen=True)
class Plan:
    """The campaigns that apply to one station's region (drafts left out unless asked for)."""

    campaigns: tuple[Campaign, ...]
    region: str
    files: tuple[Path, ...] = ()

    def campaign(self, campaign_id: str) -> Campaign:
        for campaign in self.campaigns:
            if campaign.id == campaign_id:
                return campaign
        raise KeyError(campaign_id)


def plan_files(path: Path | None) -> list[Path]:
    """The plan's YAML files; ``path`` is one file or a directory (default: the shipped plan)."""
    path = DEFAULT_PLAN_DIR if path is None else Path(path)
    if path.is_dir():
        return sorted(path.glob(PLAN_FILE_GLOB))
    return [path]


def _read_all(path: Path | None) -> tuple[list[Campaign], list[Path], list[str]]:
    problems: list[str] = []
    campaigns: list[Campaign] = []
    files = plan_files(path)
    if not files:
        problems.append(f"{path}: no plan files ({PLAN_FILE_GLOB}) found")
    seen: dict[str, Path] = {}
    for file in files:
        label = str(file)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(f"{label}: file not found")
            continue
        except yaml.YAMLError as exc:
            problems.append(f"{label}: not valid YAML: {exc}")
            continue
        if data is None:
            continue  # an empty file is allowed (e.g. a station's emptied regional file)
        if not isinstance(data, dict) or not isinstance(data.get("campaigns"), list):
            problems.append(f"{label}: expected a mapping with a 'campaigns:' list at the top")
            continue
        for key in data:
            if key not in TOP_LEVEL_FIELDS:
                problems.append(
                    f"{label}: unknown top-level field {key!r}; "
                    f"expected one of {', '.join(sorted(TOP_LEVEL_FIELDS))}"
                )
        for index, raw in enumerate(data["campaigns"]):
            name = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(name, str) and name in seen:
                problems.append(
                    f"{label}: campaign {name!r}, field 'id': expected a unique id, "
                    f"already used in {seen[name]}"
                )
                continue
            if isinstance(name, str):
                seen[name] = file
            campaign = parse_campaign(raw, label, index, problems)
            if campaign is not None:
                campaigns.append(campaign)
    return campaigns, files, problems


def check_plan(path: Path | None = None, library_entry_ids: set[str] | None = None) -> list[str]:
    """Every problem in the plan files (empty list: the plan is valid).

    With ``library_entry_ids`` it also reports message ids that the content library lacks.
    """
    campaigns, _files, problems = _read_all(path)
    if library_entry_ids is not None:
        from scheduler.report_reminders import STAFF_MESSAGES, is_staff_message

        for campaign in campaigns:
            for message_id in campaign.messages:
                if message_id.startswith(STAFF_MESSAGE_PREFIX):
                    if not is_staff_message(message_id):
                        problems.append(
                            f"{campaign.source}: campaign {campaign.id!r}, field 'messages': "
                            f"expected one of {', '.join(sorted(STAFF_MESSAGES))}, "
                            "or staff:checkup:<area code>, "
                            f"got {message_id!r}"
                        )
                elif message_id not in library_entry_ids:
                    problems.append(
                        f"{campaign.source}: campaign {campaign.id!r}, field 'messages': "
                        f"expected ids of library entries, {message_id!r} is not in the library"
                    )
    return problems


def load_plan(
    path: Path | None = None, region: str = DEFAULT_REGION, include_drafts: bool = False
) -> Plan:
    """Load and validate the plan; keep the campaigns for ``region``; raise PlanError if invalid."""
    if region not in REGIONS:
        raise PlanError([f"region: expected one of {', '.join(REGIONS)}, got {region!r}"])
    campaigns, files, problems = _read_all(path)
    if problems:
        raise PlanError(problems)
    chosen = tuple(
        c
        for c in campaigns
        if (not c.regions or region in c.regions) and (include_drafts or not c.draft)
    )
    return Plan(campaigns=chosen, region=region, files=tuple(files))


def main_check(argv: list[str] | None = None, library_entry_ids: set[str] | None = None) -> int:
    """``healthbot plan check [PATH]``: print problems; exit status 0 when the plan is valid."""
    parser = argparse.ArgumentParser(prog="healthbot plan check", description=main_check.__doc__)
    parser.add_argument("path", nargs="?", type=Path, help="plan file or folder")
    parser.add_argument("--path", dest="path_option", type=Path, help="same as PATH")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = args.path_option or args.path
    problems = check_plan(path, library_entry_ids)
    if problems:
        print(f"Kế hoạch có {len(problems)} lỗi / The plan has {len(problems)} problem(s):")
        for problem in problems:
            print(f"- {problem}")
        return 1
    campaigns, _files, _ = _read_all(path)
    print(f"Kế hoạch hợp lệ / The plan is valid: {len(campaigns)} campaign(s).")
    if library_entry_ids is None:
        print("(Chưa đối chiếu mã tin với thư viện / message ids not checked against the library.)")
    return 0


__all__ = [
    "Audience",
    "Campaign",
    "DEFAULT_PLAN_DIR",
    "FixedWindow",
    "LunarPoint",
    "LunarWindow",
    "LANGUAGES",
    "Plan",
    "PlanError",
    "REGIONS",
    "Rhythm",
    "TOPICS",
    "Window",
    "YearlyWindow",
    "check_plan",
    "load_plan",
    "main_check",
    "plan_files",
]
