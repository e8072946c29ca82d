""""Vaccinated" under a vaccine reminder (issue 20): the resident confirms the child got the dose.

The confirmation is noted on the reminder (`payload.confirmed_at`) and counts as a recorded visit:
the resident is invited once to the satisfaction survey, through the outbox (quiet hours kept),
unless they were asked within `[survey] interval_days`. Only the resident the reminder was sent to
can confirm it; a second tap changes nothing.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations.survey import invite_after_visit
from bot.model import Button
from storage.models import Reminder


async def confirm_dose(ctx: Context, reminder_id: int) -> None:
    _ = ctx._
    menu = [[Button(_("My reminders"), "rem:list")], [Button(_("Main menu"), "menu")]]
    row = await ctx.session.get(Reminder, reminder_id) if reminder_id else None
    if row is None or row.person_id != ctx.contact.person.id or row.kind != "vaccine" \
            or row.sent_at is None:
        ctx.reply(_("That reminder is no longer in your list."), menu)
        return
    payload = dict(row.payload or {})
    if payload.get("confirmed_at"):
        ctx.reply(_("Already noted, thank you."), menu)
        return
    payload["confirmed_at"] = ctx.now.isoformat()
    row.payload = payload
    ctx.reply(_("Thank you! Noted: {name} got the dose. Keep the vaccination book for the next "
                "one.").format(name=payload.get("child", "")), menu)
    await invite_after_visit(ctx.session, ctx.settings, row.person_id, ctx.now,
                             key=f"vaccine:{row.id}", trigger="vaccination")
