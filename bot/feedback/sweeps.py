"""The overdue sweep: remind the staff chat once, then escalate to the admins once.

A ticket is overdue when it is still new after its accept deadline, or still open after its
resolve deadline. The first sweep that sees it overdue posts a reminder in its staff chat
(`reminded_at`); once it has stayed overdue for another accept period (8 working hours, urgent 4)
the card goes to every admin's private chat (`escalated_at`). Both are stamped in the same
transaction as their outbox rows, whose dedupe keys also make a repeated sweep harmless.
Call it from the scheduler every few minutes: `await sweep_overdue(services, now)`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.feedback import notices
from bot.feedback.routing import admin_chats
from bot.feedback.sla import WorkingCalendar, accept_hours
from bot.i18n import gettext_for, local_datetime
from storage import tickets
from storage.models import Ticket

log = logging.getLogger(__name__)
SWEEP_BATCH = 50  # tickets per transaction


def missed_deadline(ticket: Ticket, now: datetime) -> datetime | None:
    """The deadline the ticket has missed (acceptance first), or None when it is on time."""
    if ticket.status == "new" and ticket.accept_due is not None and ticket.accept_due <= now:
        return ticket.accept_due
    if ticket.resolve_due is not None and ticket.resolve_due <= now:
        return ticket.resolve_due
    return None


async def sweep_overdue(services: Services, now: datetime) -> int:
    """Send the reminders and escalations due at `now`; returns how many it queued.

    Tickets are handled in batches, one short transaction each, so a long backlog never holds
    the database (SQLite has one writer) for long.
    """
    queued, after_id = 0, 0
    while True:
        async with services.db.sessions() as session, session.begin():
            batch = await tickets.needing_sweep(session, now, after_id=after_id, limit=SWEEP_BATCH)
            for ticket in batch:
                queued += await _sweep_one(services, session, ticket, now)
        if len(batch) < SWEEP_BATCH:
            break
        after_id = batch[-1].id
    if queued:
        log.info("feedback sweep queued %d reminder/escalation message(s)", queued)
    return queued


async def _sweep_one(
    services: Services, session: AsyncSession, ticket: Ticket, now: datetime
) -> int:
    settings = services.settings
    locale = notices.staff_locale(services)
    _ = gettext_for(locale)
    missed = missed_deadline(ticket, now)
    if missed is None:
        return 0
    queued = 0
    if ticket.reminded_at is None:
        ticket.reminded_at = now
        text = _("Reminder: feedback {code} is overdue (deadline {due}).").format(
            code=ticket.code, due=local_datetime(missed, locale)
        )
        await notices.send_to_staff_chat(
            services, session, ticket, text, key=f"ticket:{ticket.id}:reminder"
        )
        await tickets.add_event(session, ticket, actor="system", action="reminded", now=now)
        queued += 1
    calendar = WorkingCalendar.from_settings(settings)
    escalate_at = calendar.add_working_hours(missed, accept_hours(settings, ticket.urgency))
    if ticket.escalated_at is None and now >= escalate_at:
        ticket.escalated_at = now
        heading = _("Escalation: feedback {code} is still overdue.").format(code=ticket.code)
        for chat in admin_chats(settings):
            await notices.send_staff_card(
                services,
                session,
                ticket,
                now,
                key=f"ticket:{ticket.id}:escalation:{chat.key}",
                heading=heading,
                chat=chat,
            )
            queued += 1
        await tickets.add_event(session, ticket, actor="system", action="escalated", now=now)
    return queued


SWEEP_EVERY_SECONDS = 300.0  # a reminder a few minutes late is fine; deadlines are in hours


async def sweep_overdue_now(services: Services) -> int:
    """The periodic-task form (`bot.maintenance.periodic_tasks`): sweep at the services' clock."""
    return await sweep_overdue(services, services.clock())
