"""The reminder sweep: one periodic job turns due `Reminder` rows into outbox messages.

One job for all reminders (not one scheduler job each) scales to hundreds of thousands of rows.
Each reminder goes to the person's most recently used reachable private chat, in their language,
with dedupe key `reminder:<id>`, so a sweep that runs twice or crashes half-way never sends twice.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.library import Library
from content.render import render_entry
from content.vaccination import load_schedule
from core.config import Settings
from core.i18n import gettext_for, local_date, normalize_locale
from core.model import Button, Outbound
from core.stations import settings_for
from storage import outbox
from storage.db import Database
from storage.models import Chat, Person, Reminder
from storage.outbox_bulk import enqueue_many

log = logging.getLogger(__name__)
# Reminders claimed per transaction: four statements (claim, chats, mark, insert chunks) per batch.
BATCH = 5000


async def sweep_reminders(db: Database, settings: Settings, library: Library, now: datetime) -> int:
    """Queue every due reminder, batch after batch; returns how many were queued.

    Set-based (a few statements per batch of `BATCH`, not two per reminder), so 100,000 reminders
    due at 08:00 are queued within the minute (bench/reminders.py). On PostgreSQL the batch is
    claimed with SKIP LOCKED: every worker's sweep takes different reminders.
    """
    queued = 0
    while True:
        async with db.sessions() as session, session.begin():
            added, claimed = await _sweep_batch(session, settings, library, now)
        queued += added
        if claimed < BATCH:
            break
    if queued:
        log.info("queued %d personal reminders", queued)
    return queued


async def _sweep_batch(
    session: AsyncSession, settings: Settings, library: Library, now: datetime
) -> tuple[int, int]:
    """One batch: (outbox rows added, reminders claimed)."""
    due = (
        await session.execute(
            select(Reminder.id, Reminder.person_id, Reminder.kind, Reminder.payload,
                   Person.locale, Person.station_id)
            .join(Person, Person.id == Reminder.person_id)
            .where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
            .order_by(Reminder.due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Reminder)
        )
    ).all()
    if not due:
        return 0, 0
    chats = await _latest_private_chats(session, {r.person_id for r in due})
    await session.execute(
        update(Reminder).where(Reminder.id.in_([r.id for r in due])).values(sent_at=now)
    )
    composed: dict[tuple[str, int, str], dict[str, Any]] = {}  # BHYT texts repeat: compose once
    rows = []
    for reminder in due:
        chat = chats.get(reminder.person_id)
        if chat is None:
            continue  # nowhere we may write; the row stays marked so it is not retried forever
        locale = normalize_locale(reminder.locale)
        station_id = reminder.station_id or 1  # its station's phone and facts (issue 21)
        key = ((locale, station_id, json.dumps(reminder.payload, sort_keys=True))
               if reminder.kind == "bhyt" else None)
        payload = composed.get(key) if key else None
        if payload is None:
            payload = compose(reminder, locale, settings_for(settings, station_id), library,
                              now.date()).to_payload()
            if key:
                composed[key] = payload
        rows.append({
            "dedupe_key": f"reminder:{reminder.id}", "channel": chat[0], "chat_id": chat[1],
            "chat_kind": "private", "payload": payload, "priority": outbox.PRIORITY_REMINDER,
            "urgent": False, "status": outbox.STATUS_PENDING, "attempts": 0,
            "not_before": now, "created_at": now, "station_id": station_id,
        })
    return await enqueue_many(session, rows), len(due)


async def _latest_private_chats(
    session: AsyncSession, person_ids: set[int]
) -> dict[int, tuple[str, str]]:
    """Each person's most recently used reachable private chat: (channel, external id)."""
    ranked = (
        select(
            Chat.person_id, Chat.channel, Chat.external_id,
            func.row_number().over(
                partition_by=Chat.person_id,
                order_by=(Chat.last_inbound_at.desc().nulls_last(), Chat.id.desc()),
            ).label("rank"),
        )
        .where(
            Chat.person_id.in_(person_ids),
            Chat.kind == "private",
            Chat.unreachable_reason.is_(None),
            Chat.active.is_(True),
        )
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.person_id, ranked.c.channel, ranked.c.external_id).where(
            ranked.c.rank == 1
        )
    )
    return {person_id: (channel, chat_id) for person_id, channel, chat_id in rows.all()}


def compose(
    reminder: Any, locale: str, settings: Settings, library: Library, today: date
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
        # "Vaccinated": the resident confirms the dose (then a satisfaction survey, issue 20).
        done = ((Button(_("Vaccinated"), f"rem:done:{reminder.id}"),),) \
            if getattr(reminder, "id", None) else ()
        return Outbound(
            text=text,
            buttons=(*done, (Button(_("My reminders"), "rem:list"),)),
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
