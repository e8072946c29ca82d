"""What staff read about a broadcast: its time with the weekday, its audience, the quiet-hours
truth, and the approval card every approver gets (and sees closed once one of them decides).

A decision edits every approver's card in place on Telegram (buttons removed, who decided added);
a card not yet sent is withdrawn; on channels that cannot edit a short note goes instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

from babel.dates import format_datetime
from sqlalchemy import select

from bot.config import StaffMember
from bot.context import Context
from bot.i18n import TIMEZONE, Gettext, gettext_for, normalize_locale
from bot.model import ZALO_BOT, Button, Outbound
from scheduler import broadcasts
from storage import outbox
from storage.models import BroadcastRecord, Outbox

PREVIEW_CHARS = 600
WAKE_DELAY = 0.5  # seconds: let the handler's transaction commit before the dispatcher looks


def when_text(at: datetime, locale: str) -> str:
    """'08:00, Thứ Ba 24/11/2026': the exact local time with its weekday, so a misread shows."""
    loc = normalize_locale(locale)
    pattern = "HH:mm, EEEE dd/MM/yyyy" if loc == "vi" else "EEEE d MMM yyyy, HH:mm"
    return format_datetime(at, pattern, tzinfo=TIMEZONE, locale=loc)


def audience_text(ctx: Context, audience: dict[str, object] | None, _: Gettext) -> str:
    kind, value = (audience or {}).get("kind"), str((audience or {}).get("value") or "")
    if kind == "area":
        area = ctx.settings.area(value)
        return _("residents of {area}").format(area=area.name if area else value)
    if kind == "topic":
        topic = ctx.services.library.topics.get(value)
        return _("subscribers of “{topic}”").format(topic=topic.title("vi") if topic else value)
    return _("everyone (all groups and subscribers)")


def approval_card(ctx: Context, record: BroadcastRecord, count: int) -> Outbound:
    """Text, audience, exact recipient count, urgency and time, with Approve / Reject."""
    locale = ctx.settings.station.default_language
    _ = gettext_for(locale)
    render = broadcasts.broadcast_message(record, ctx.settings, ctx.services.library,
                                          ctx.now.date())
    lines = [_("{author} asks you to approve a broadcast:").format(author=record.created_by)]
    if record.kind == "urgent":
        lines.append("🚨 " + _("Urgent alert (sent even in quiet hours)"))
    lines.append(_("To: {audience}, {count} chats").format(
        audience=audience_text(ctx, record.audience, _), count=count))
    lines.append(_("When: {when}").format(when=when_text(max(record.scheduled_at, ctx.now),
                                                         locale)))
    text = "\n".join(lines) + "\n\n" + render(locale).text[:PREVIEW_CHARS]
    return Outbound(text=text, buttons=((Button(_("Approve"), f"bcy:{record.id}"),
                                         Button(_("Reject"), f"bcn:{record.id}")),))


def typed_decision(ctx: Context, card: Outbound, channel: str, record: BroadcastRecord) -> Outbound:
    """On a channel without buttons (Zalo Bot) the card says which commands decide instead."""
    if channel != ZALO_BOT.name:
        return card
    _ = gettext_for(ctx.settings.station.default_language)
    line = _("Send /duyet {id} to approve or /tuchoi {id} to reject.").format(id=record.id)
    return replace(card, text=f"{card.text}\n\n{line}", buttons=())


async def deliver(ctx: Context, channel: str, chat_id: str, message: Outbound, key: str) -> None:
    assert ctx.services.deliverer is not None
    await ctx.services.deliverer.enqueue(ctx.session, channel=channel, chat_id=chat_id,
                                         message=message, dedupe_key=key,
                                         priority=outbox.PRIORITY_STAFF)
    wake(ctx)


def wake(ctx: Context) -> None:
    dispatcher = ctx.services.extras.get("dispatcher")
    if dispatcher is not None:
        asyncio.get_running_loop().call_later(WAKE_DELAY, dispatcher.wake)


async def close_approval_cards(ctx: Context, record: BroadcastRecord, decider: StaffMember,
                               approved: bool) -> None:
    """Once one approver decides, no approver's card offers the buttons any more."""
    _ = gettext_for(ctx.settings.station.default_language)
    verdict = (_("✅ Approved by {name} at {when}.") if approved
               else _("❌ Rejected by {name} at {when}.")).format(
        name=decider.name, when=when_text(ctx.now, ctx.settings.station.default_language))
    prefix = f"broadcast:{record.id}:approve:"
    rows = (await ctx.session.execute(
        select(Outbox).where(Outbox.dedupe_key.like(f"{prefix}%")))).scalars().all()
    for row in rows:
        if row.status in (outbox.STATUS_PENDING, outbox.STATUS_HELD):
            row.status = outbox.STATUS_CANCELLED  # not sent yet: never show stale buttons
            continue
        if row.status != "sent":
            continue
        card = Outbound.from_payload(row.payload)
        edit = row.sent_message_id if row.channel == "telegram" else None
        text = f"{verdict}\n\n{card.text}" if edit else verdict
        await deliver(ctx, row.channel, row.chat_id, Outbound(text=text, edit_message_id=edit),
                      f"broadcast:{record.id}:decided:{row.channel}:{row.chat_id}")
