"""The reminder sweep: one periodic job turns due `Reminder` rows into outbox messages.

One job for all reminders (not one scheduler job each) scales to hundreds of thousands of rows.
Each reminder goes to the person's most recently used reachable private chat, in their language,
with dedupe key `reminder:<id>`, so a sweep that runs twice or crashes half-way never sends twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select

from bot.config import Settings
from bot.i18n import gettext_for, local_date, normalize_locale
from bot.model import Button, Outbound
from content.library import Library
from content.render import render_entry
from content.vaccination import load_schedule
from storage import outbox
from storage.db import Database
from storage.models import Chat, Person, Reminder

log = logging.getLogger(__name__)
BATCH = 500


async def sweep_reminders(db: Database, settings: Settings, library: Library, now: datetime) -> int:
    """Queue every due reminder; returns how many were queued."""
    queued = 0
    async with db.sessions() as session, session.begin():
        due = (
            (
                await session.execute(
                    select(Reminder)
                    .where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
                    .order_by(Reminder.due_at)
                    .limit(BATCH)
                )
            )
            .scalars()
            .all()
        )
        for reminder in due:
            reminder.sent_at = now
            person = await session.get(Person, reminder.person_id)
            chat = (
                await session.execute(
                    select(Chat)
                    .where(
                        Chat.person_id == reminder.person_id,
                        Chat.kind == "private",
                        Chat.unreachable_reason.is_(None),
                        Chat.active.is_(True),
                    )
                    .order_by(Chat.last_inbound_at.desc().nulls_last())
                    .limit(1)
                )
            ).scalar_one_or_none()
            if person is None or chat is None:
                continue  # nowhere we may write; the row stays marked so it is not retried forever
            message = compose(
                reminder, normalize_locale(person.locale), settings, library, now.date()
            )
            if await outbox.enqueue(
                session,
                dedupe_key=f"reminder:{reminder.id}",
                channel=chat.channel,
                chat_id=chat.external_id,
                payload=message.to_payload(),
                priority=outbox.PRIORITY_REMINDER,
                not_before=now,
            ):
                queued += 1
    if queued:
        log.info("queued %d personal reminders", queued)
    return queued


def compose(
    reminder: Reminder, locale: str, settings: Settings, library: Library, today: date
) -> Outbound:
    """The reminder text in the person's language, with its source line."""
    _ = gettext_for(locale)
    payload = reminder.payload or {}
    if reminder.kind == "vaccine":
        doses = {d.id: d for d in load_schedule()}
        names = ", ".join(doses[i].vaccine(locale) for i in payload.get("doses", []) if i in doses)
        due = date.fromisoformat(payload["due"])
        text = _(
            "Reminder: around {date}, {name} is due for: {vaccines}. The exact schedule follows the "
            "health station's guidance: please bring the vaccination book and call the station "
            "at {phone} to confirm."
        ).format(
            date=local_date(due, locale),
            name=payload.get("child", ""),
            vaccines=names,
            phone=settings.station.phone,
        )
        return Outbound(
            text=text,
            buttons=((Button(_("My reminders"), "rem:list"),),),
            source=_(
                "Source: Ministry of Health – Circular 13/2026/TT-BYT (from 1 July 2026); ages "
                "as published in Circulars 10/2024 and 52/2025"
            ),
            topic="vaccination",
        )
    expiry = date.fromisoformat(payload["expiry"])
    answer = render_entry(
        library.entry("bhyt.renewal"),
        locale,
        settings.station.info(),
        base_salary=settings.bhyt.base_salary,
        today=today,
    )
    text = _("Reminder: your BHYT card expires on {date}.").format(date=local_date(expiry, locale))
    return Outbound(text=f"{text}\n\n{answer.text}", source=answer.source_line, topic="bhyt")
