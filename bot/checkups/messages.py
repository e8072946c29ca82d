"""What residents read about a check-up session, and the outbox rows it causes.

Invitations (on creation), the day-before and morning reminders (on booking) are outbox rows, so
the dispatcher paces them and quiet hours hold them; their dedupe keys name the booking and slot,
so cancelling or moving a booking cancels exactly its pending reminders.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import TIMEZONE, gettext_for, local_date, normalize_locale
from bot.model import Button, Outbound
from scheduler.broadcasts import enqueue_for, quiet_hours, resolve_audience
from scheduler.plan import Audience
from storage import outbox
from storage.checkups import missed
from storage.models import Chat, CheckupSession, Outbox, Person

EVE_AT = time(18, 0)  # the day before, local evening (before the quiet hours)
MORNING_AT = time(7, 0)  # the day itself, when the quiet hours end
PRIORITY_CHECKUP = 5  # like a staff broadcast: after direct replies, before campaigns


def hhmm(value: datetime) -> str:
    return value.astimezone(TIMEZONE).strftime("%H:%M")


def area_names(settings: Settings, codes: list[str], locale: str) -> str:
    if not codes:
        _ = gettext_for(locale)
        return _("every area")
    return ", ".join((a.name if (a := settings.area(c)) else c) for c in codes)


def describe(settings: Settings, row: CheckupSession, locale: str) -> str:
    """Date, time window, place, areas, priority groups, what to bring, fasting."""
    _ = gettext_for(locale)
    lines = [
        _("Free check-up: {date}, {start}–{end}").format(
            date=local_date(row.starts_at, locale), start=hhmm(row.starts_at), end=hhmm(row.ends_at)),
        _("Place: {place}").format(place=row.place),
        _("For: {areas}").format(areas=area_names(settings, row.areas, locale)),
    ]
    if row.priority_groups:
        lines.append(_("Priority: {groups}").format(groups=row.priority_groups))
    if row.bring:
        lines.append(_("Please bring: {bring}").format(bring=row.bring))
    lines.append(_("Please come fasting (no breakfast) as the station asks.") if row.fasting
                 else _("No need to fast."))
    return "\n".join(lines)


def invitation(settings: Settings, row: CheckupSession, locale: str, private: bool) -> Outbound:
    _ = gettext_for(locale)
    text = describe(settings, row, locale) + "\n\n" + (
        _("Tap the button to choose a time.") if private
        else _("To book a time, message the bot privately: /khamsuckhoe"))
    buttons = ((Button(_("Book a time"), f"ck:s:{row.id}"),),) if private else ()
    return Outbound(text=text, buttons=buttons)


async def queue_invitations(
    session: AsyncSession, settings: Settings, row: CheckupSession, now: datetime
) -> int:
    """Invite the subscribers of the session's areas privately and post in the areas' groups."""
    areas = tuple(row.areas)
    not_before = quiet_hours(settings).release_time(now).astimezone(UTC)
    audience = Audience(groups=areas or "all", areas=areas, subscribers_of="*")
    found = await resolve_audience(session, audience, settings, stations=[row.station_id])
    followed = await queue_missed_followups(session, settings, row, now, not_before)
    found = [r for r in found if (r.channel, r.chat_id) not in followed]
    total = len(followed)
    for private in (True, False):
        recipients = [r for r in found if (r.chat_kind == "private") == private]
        total += await enqueue_for(
            session, recipients, lambda loc, p=private: invitation(settings, row, loc, p),
            key=f"checkup-invite:{row.id}", priority=PRIORITY_CHECKUP, not_before=not_before)
    return total


def reminder(settings: Settings, row: CheckupSession, slot_at: datetime, locale: str,
             eve: bool) -> Outbound:
    _ = gettext_for(locale)
    head = (_("Reminder: your free check-up is tomorrow at {time}.") if eve
            else _("Reminder: your free check-up is today at {time}.")).format(time=hhmm(slot_at))
    return Outbound(
        text=head + "\n" + describe(settings, row, locale) + "\n"
        + _("Can't come? Send /khamsuckhoe to move or cancel."),
    )


async def queue_reminders(
    session: AsyncSession, settings: Settings, *, booking_id: int, slot_id: int,
    slot_at: datetime, row: CheckupSession, channel: str, chat_id: str, locale: str,
    now: datetime,
) -> int:
    """The day-before and morning reminders of one booking (those still ahead)."""
    day = slot_at.astimezone(TIMEZONE).date()
    quiet = quiet_hours(settings)
    queued = 0
    for eve, on, at in ((True, day - timedelta(days=1), EVE_AT), (False, day, MORNING_AT)):
        due = quiet.release_time(datetime.combine(on, at, tzinfo=TIMEZONE)).astimezone(UTC)
        if due <= now or due >= slot_at:
            continue
        kind = "eve" if eve else "morning"
        queued += await outbox.enqueue(
            session, dedupe_key=f"checkup:{booking_id}:{slot_id}:{kind}:{int(now.timestamp())}", channel=channel,
            chat_id=chat_id, payload=reminder(settings, row, slot_at, locale, eve).to_payload(),
            priority=PRIORITY_CHECKUP, not_before=due)
    return queued


async def cancel_reminders(session: AsyncSession, booking_id: int) -> None:
    await session.execute(
        update(Outbox)
        .where(Outbox.dedupe_key.like(f"checkup:{booking_id}:%"),
               Outbox.status.in_(("pending", "held")))
        .values(status="cancelled")
    )


async def private_chat_of(session: AsyncSession, person_id: int
                          ) -> tuple[str, str, str | None, int] | None:
    """(channel, chat id, locale, station) of the person's most recent reachable private chat."""
    found = (await session.execute(
        select(Chat.channel, Chat.external_id, Person.locale, Person.station_id)
        .join(Person, Person.id == Chat.person_id)
        .where(Chat.person_id == person_id, Chat.kind == "private", Chat.active.is_(True),
               Chat.unreachable_reason.is_(None))
        .order_by(Chat.last_inbound_at.desc().nulls_last(), Chat.id.desc()).limit(1)
    )).first()  # fmt: skip
    return None if found is None else (found[0], found[1], found[2], found[3])


def missed_followup(settings: Settings, row: CheckupSession, missed_at: datetime,
                    locale: str) -> Outbound:
    _ = gettext_for(locale)
    text = _("We missed you at the free check-up on {date}. No problem: here is the next "
             "session.").format(date=local_date(missed_at, locale))
    return Outbound(text=text + "\n\n" + describe(settings, row, locale),
                    buttons=((Button(_("Book a time"), f"ck:s:{row.id}"),),))


async def queue_missed_followups(
    session: AsyncSession, settings: Settings, row: CheckupSession, now: datetime,
    not_before: datetime,
) -> set[tuple[str, str]]:
    """One friendly follow-up per missed booking (ever: the dedupe key names the booking), with
    the new session; returns the chats written to (they get no separate invitation)."""
    chats: set[tuple[str, str]] = set()
    for booking, past in await missed(session, now, list(row.areas), row.station_id):
        found = await private_chat_of(session, booking.person_id)  # type: ignore[arg-type]
        if found is None:
            continue
        channel, chat_id, locale, _station = found
        message = missed_followup(settings, row, past.starts_at,
                                  normalize_locale(locale or settings.station.default_language))
        if await outbox.enqueue(session, dedupe_key=f"checkup-missed:{booking.id}",
                                channel=channel, chat_id=chat_id, payload=message.to_payload(),
                                priority=PRIORITY_CHECKUP, not_before=not_before):
            chats.add((channel, chat_id))
    return chats
