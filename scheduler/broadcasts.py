"""Who receives a broadcast, and writing its outbox rows: shared by the planner and staff `/phat`.

The audience is resolved when a broadcast fires (never when it is planned), so a resident's `/huy`
or a group removing the bot counts at once. Recipients:
- resident group chats: active, reachable, not a staff chat, optionally of some areas;
- subscribers: people with a `Subscription` to the topic (``"*"``: to any topic), optionally living
  in some areas, each once, in their most recently used reachable private chat;
- limited to a language (groups speak the station's default language).

`enqueue_for` writes one row per recipient with dedupe key ``<key>:chat:<channel>:<chat id>`` in
the caller's transaction, rendering the message once per language.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from content.library import Library
from content.render import render_entry
from core.config import Settings
from core.i18n import gettext_for, normalize_locale
from core.model import Outbound
from core.stations import DEFAULT_STATION, may_act_on, settings_for
from scheduler.occurrences import QuietHours
from scheduler.plan import Audience
from storage import outbox
from storage.models import BroadcastRecord, Chat, Outbox, Person, Subscription

ANY_TOPIC = "*"
ANY_LANGUAGE = "any"
KEY_CHUNK = 500  # dedupe keys looked up per query


@dataclass(frozen=True)
class Recipient:
    channel: str
    chat_id: str
    chat_kind: str  # private | group
    locale: str
    area_code: str | None
    station_id: int = 1  # stations (issue 21): the outbox row belongs to the recipient's station


def staff_chats(settings: Settings) -> set[tuple[str, str]]:
    """(channel, chat id) of every configured staff chat: never part of a resident audience."""
    found = set()
    for value in [settings.feedback.staff_chat, *(c.staff_chat for c in settings.feedback.categories)]:
        channel, _, chat_id = (value or "").partition(":")
        if channel and chat_id:
            found.add((channel, chat_id))
    return found


def every_staff_chat(settings: Settings) -> set[tuple[str, str]]:
    """The staff chats of every station of the installation (issue 21): a station's staff chat
    registered as a group must never receive a residents' broadcast, whichever station sends."""
    found = staff_chats(settings)
    for entry in settings.stations:
        found |= staff_chats(settings_for(settings, entry.id))
    return found


def staff_recipients(
    settings: Settings, stations: Collection[int] | None = None
) -> list[Recipient]:
    """Who gets a staff-only reminder: the configured staff chats; without any, each staff
    member's own Telegram / Zalo chat. In the station's default language. With `stations`
    (issue 21): those stations' staff chats, else the members who work for one of them (province
    staff included), never another station's staff."""
    locale = settings.station.default_language
    views = [settings] if stations is None else [settings_for(settings, s) for s in stations]
    chats = sorted({chat for view in views for chat in staff_chats(view)})
    if not chats:
        for member in settings.staff:
            if stations is not None and not any(may_act_on(member, s) for s in stations):
                continue
            for channel, user_id in (("telegram", member.telegram_id),
                                     ("zalo_bot", member.zalo_bot_id),
                                     ("zalo_oa", member.zalo_oa_id)):
                if user_id:
                    chats.append((channel, user_id))
    return [Recipient(channel, chat_id, "group" if chat_id.startswith("-") else "private",
                      locale, None) for channel, chat_id in dict.fromkeys(chats)]


def stations_of_region(settings: Settings, region: str) -> list[int] | None:
    """The stations whose plan region is `region` (issue 21): a plan's campaigns reach only
    them. None with a single station (every row is station 1: no filter needed)."""
    if not settings.stations:
        return None
    home = settings.station.region
    ids = [1] if home == region else []
    return ids + [e.id for e in settings.stations if (e.region or home) == region]


# The planner fires one plan, loaded for station 1's region (`[station].region`; bot.app).
PLAN_STATION = DEFAULT_STATION


def plan_stations(settings: Settings, region: str, audience: Audience) -> list[int] | None:
    """The stations an occurrence of the plan (for `region`) reaches: the one answer the planner
    sends by and the console's calendar shows by. Residents' campaigns reach the stations of the
    plan's region; staff-only items (report deadlines, `staff:checkup:<AREA>` with station 1's
    area codes) are the plan's own station's, for its staff only. None with a single station."""
    if not settings.stations:
        return None
    if audience.staff:
        return [PLAN_STATION]
    return stations_of_region(settings, region)


def _wanted_areas(codes: Iterable[str]) -> set[str]:
    return {c.strip().upper() for c in codes if c.strip()}


async def resolve_audience(
    session: AsyncSession, audience: Audience, settings: Settings,
    stations: Collection[int] | None = None,
) -> list[Recipient]:
    """Every chat that should receive a broadcast to ``audience`` right now (each chat once),
    among the residents and groups of ``stations`` (None: every station)."""
    if audience.staff:  # staff-only reminders (report deadlines) never reach residents
        return staff_recipients(settings, stations)
    default_locale = settings.station.default_language
    language = audience.language or ANY_LANGUAGE
    excluded = every_staff_chat(settings)
    areas = _wanted_areas(audience.areas)
    found: dict[tuple[str, str], Recipient] = {}

    if audience.groups != "none" and language in (ANY_LANGUAGE, default_locale):
        group_areas = areas if audience.groups == "all" else _wanted_areas(audience.groups)
        stmt = select(Chat).where(
            Chat.kind == "group", Chat.active.is_(True), Chat.unreachable_reason.is_(None)
        )
        if audience.groups != "all" or areas:
            stmt = stmt.where(func.upper(Chat.area_code).in_(group_areas or {""}))
        if stations is not None:
            stmt = stmt.where(Chat.station_id.in_(list(stations)))
        for chat in (await session.execute(stmt.order_by(Chat.id))).scalars():
            if (chat.channel, chat.external_id) not in excluded:
                found[(chat.channel, chat.external_id)] = Recipient(
                    chat.channel, chat.external_id, "group", default_locale, chat.area_code,
                    chat.station_id,
                )

    if audience.subscribers_of:
        people = select(Person.id).where(
            Person.id.in_(_subscribed(audience.subscribers_of))
        )
        if areas:
            people = people.where(func.upper(Person.area_code).in_(areas))
        if stations is not None:
            people = people.where(Person.station_id.in_(list(stations)))
        stmt = (
            select(Chat, Person.locale, Person.area_code, Person.station_id)
            .join(Person, Person.id == Chat.person_id)
            .where(
                Chat.person_id.in_(people),
                Chat.kind == "private",
                Chat.active.is_(True),
                Chat.unreachable_reason.is_(None),
            )
            .order_by(Chat.person_id, Chat.last_inbound_at.desc().nulls_last(), Chat.id.desc())
        )
        seen_people: set[int] = set()
        for chat, locale, area, station_id in (await session.execute(stmt)).all():
            if chat.person_id in seen_people:
                continue  # one message per person: their most recently used chat
            seen_people.add(chat.person_id)
            locale = normalize_locale(locale or default_locale)
            if language not in (ANY_LANGUAGE, locale):
                continue
            if (chat.channel, chat.external_id) not in excluded:
                found.setdefault(
                    (chat.channel, chat.external_id),
                    Recipient(chat.channel, chat.external_id, "private", locale, area,
                              station_id),
                )
    return list(found.values())


def _subscribed(topic: str) -> Any:
    stmt = select(Subscription.person_id)
    return stmt if topic == ANY_TOPIC else stmt.where(Subscription.topic == topic)


def library_message(
    library: Library, settings: Settings, entry_id: str, today: Any, *, urgent: bool = False
) -> Callable[[str], Outbound]:
    """A per-language renderer of a library entry with its source line and the station's name."""
    cache: dict[str, Outbound] = {}
    entry = library.entry(entry_id)

    def render(locale: str) -> Outbound:
        if locale not in cache:
            answer = render_entry(
                entry, locale, settings.station.info(), base_salary=settings.bhyt.base_salary,
                today=today, library=library,
            )
            _ = gettext_for(locale)
            heading = _("Health news from {station}").format(station=settings.station.name)
            if urgent:  # /khancap with a library message: the same marker as typed alerts
                heading = urgent_heading(_, settings)
            text = f"{heading}\n\n{entry.title(locale)}\n{answer.text}\n\n{answer.source_line}"
            cache[locale] = Outbound(text=text, source=answer.source_line, topic=entry.topic_id)
        return cache[locale]

    return render


def urgent_heading(_: Callable[[str], str], settings: Settings) -> str:
    """The marker every urgent alert starts with, so residents see at once it is not news."""
    return _("🚨 URGENT – notice from {station}").format(station=settings.station.name)


def text_message(settings: Settings, text: str, urgent: bool) -> Callable[[str], Outbound]:
    """Staff's own words, under a heading in each recipient's language."""

    def render(locale: str) -> Outbound:
        _ = gettext_for(locale)
        if urgent:
            heading = urgent_heading(_, settings)
        else:
            heading = _("Announcement from {station}").format(station=settings.station.name)
        return Outbound(text=f"{heading}\n\n{text}")

    return render


async def enqueue_for(
    session: AsyncSession,
    recipients: list[Recipient],
    render: Callable[[str], Outbound],
    *,
    key: str,
    priority: int,
    not_before: datetime,
    urgent: bool = False,
    broadcast_id: int | None = None,
    campaign_id: str | None = None,
) -> int:
    """Queue one message per recipient (idempotent on ``<key>:chat:<channel>:<id>``); returns how
    many rows are new. Runs in the caller's transaction: all rows or none."""
    rows: dict[str, dict[str, Any]] = {}
    for r in recipients:
        dedupe_key = f"{key}:chat:{r.channel}:{r.chat_id}"[:191]
        rows[dedupe_key] = {
            "dedupe_key": dedupe_key,
            "channel": r.channel,
            "chat_id": r.chat_id,
            "chat_kind": r.chat_kind,
            "priority": priority,
            "urgent": urgent,
            "payload": render(r.locale).to_payload(),
            "status": "pending",
            "attempts": 0,
            "not_before": not_before,
            "broadcast_id": broadcast_id,
            "campaign_id": campaign_id,
            "created_at": not_before,
            "station_id": r.station_id,
        }
    keys = list(rows)
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        existing = await session.execute(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(chunk)))
        for (known,) in existing.all():
            rows.pop(known, None)
    if rows:
        await session.execute(insert(Outbox), list(rows.values()))
    return len(rows)


# --- Staff broadcasts (`/phat`, `/khancap`): audience choices and queueing ---------------------

AUDIENCE_ALL = "all"
AUDIENCE_AREA = "area"
AUDIENCE_TOPIC = "topic"
STATUS_QUEUED = "queued"


def quiet_hours(settings: Settings) -> QuietHours:
    """The configured quiet hours ("21:00-07:00")."""
    start, _, end = settings.broadcast.quiet_hours.partition("-")
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def staff_audience(choice: dict[str, Any]) -> Audience:
    """A staff choice ({"kind": "all" | "area" | "topic", "value": ...}) as a plan audience:
    all = every resident group and every subscriber; an area = its groups and the subscribers
    living there; a topic = that topic's subscribers."""
    kind, value = choice.get("kind"), str(choice.get("value") or "")
    if kind == AUDIENCE_AREA:
        return Audience(groups=(value,), areas=(value,), subscribers_of=ANY_TOPIC)
    if kind == AUDIENCE_TOPIC:
        return Audience(groups="none", subscribers_of=value)
    return Audience(groups="all", subscribers_of=ANY_TOPIC)


def audience_stations(choice: dict[str, Any]) -> list[int] | None:
    """The stations a staff broadcast reaches (issue 21); None (older rows): every station."""
    stations = choice.get("stations")
    return [int(s) for s in stations] if isinstance(stations, list) else None


def broadcast_message(
    record: BroadcastRecord, settings: Settings, library: Library, today: Any
) -> Callable[[str], Outbound]:
    if record.message_id and library.has_entry(record.message_id):
        return library_message(library, settings, record.message_id, today,
                               urgent=record.kind == "urgent")
    return text_message(settings, record.text or "", urgent=record.kind == "urgent")


async def queue_broadcast(
    session: AsyncSession,
    record: BroadcastRecord,
    settings: Settings,
    library: Library,
    now: datetime,
) -> int:
    """Resolve a staff broadcast's audience now and queue its rows (in the caller's transaction).

    Ordinary broadcasts wait for the end of the quiet hours; urgent alerts go at once.
    """
    urgent = record.kind == "urgent"
    recipients = await resolve_audience(session, staff_audience(record.audience or {}), settings,
                                        audience_stations(record.audience or {}))
    due = max(now, record.scheduled_at)
    not_before = due if urgent else quiet_hours(settings).release_time(due).astimezone(UTC)
    count = await enqueue_for(
        session, recipients, broadcast_message(record, settings, library, now),
        key=f"broadcast:{record.id}",
        priority=outbox.PRIORITY_URGENT if urgent else outbox.PRIORITY_BROADCAST,
        not_before=not_before, urgent=urgent, broadcast_id=record.id,
    )
    record.status = STATUS_QUEUED
    record.recipients = len(recipients)
    record.approved_at = record.approved_at or now  # the report's approval-to-delivery time
    return count
