"""A staff broadcast's preview and confirmation: the record, the exact count, approval or queue.

Part of `/phat` / `/khancap` (`bot.conversations.broadcast`); the console's composer
(`bot.console.broadcast_compose`) calls `_record` and `_confirm` too.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import StaffMember
from bot.context import Context
from bot.conversations.broadcast_cards import (
    approval_card,
    deliver,
    typed_decision,
    wake,
    when_text,
)
from bot.conversations.broadcast_common import ID_FIELDS, PREVIEW_CHARS, _cancel_row, _staff
from bot.i18n import TIMEZONE
from bot.model import Button
from bot.permissions import Action, allows
from bot.stations import broadcast_stations, may_act_on, reach
from scheduler import broadcasts
from storage.models import BroadcastRecord


def _record(ctx: Context, member: StaffMember) -> BroadcastRecord:
    data = ctx.data
    at = datetime.fromisoformat(data["at"]) if data.get("at") else ctx.now
    # stations (issue 21): the member's stations; a province member's every station, or the list
    # chosen with "Only some stations" (bot/conversations/broadcast_stations.py)
    scope = reach(ctx.services.settings, member, data.get("stations"))
    return BroadcastRecord(
        kind="urgent" if data.get("kind") == "urgent" else "staff", created_by=member.name[:64],
        message_id=data.get("message_id"), text=data.get("text"),
        audience={**(data.get("audience") or {"kind": "all"}), "stations": scope},
        scheduled_at=at, status="draft", station_id=scope[0] if scope else 1,
    )


async def _preview(ctx: Context) -> None:
    """The message as residents will read it, the exact count and the honest time to confirm."""
    member = _staff(ctx)
    if member is None or not (ctx.data.get("message_id") or ctx.data.get("text")):
        return
    _ = ctx._
    record = _record(ctx, member)
    audience = broadcasts.staff_audience(record.audience)
    recipients = await broadcasts.resolve_audience(
        ctx.session, audience, ctx.settings, broadcasts.audience_stations(record.audience))
    groups = sum(1 for r in recipients if r.chat_kind == "group")
    render = broadcasts.broadcast_message(record, ctx.settings, ctx.services.library,
                                          ctx.now.date())
    text = render(ctx.locale).text
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS] + "…"
    urgent = record.kind == "urgent"
    quiet = broadcasts.quiet_hours(ctx.settings)
    held = quiet.holds(record.scheduled_at) and not (urgent and ctx.data.get("force"))
    if not ctx.data.get("at") and held:
        # "Now" at night: say so and let them choose, instead of a silent hold until morning.
        release = quiet.release_time(ctx.now)
        note = _("It is quiet time now ({hours}): residents are not disturbed at night.").format(
            hours=ctx.settings.broadcast.quiet_hours.replace("-", "–"))
        rows = [[Button(_("Send at {time}").format(time=f"{release:%H:%M}"), "bc:w:quiet")]]
        if urgent:
            rows.append([Button("🚨 " + _("Send now anyway"), "bc:w:force")])
        rows.append(_cancel_row(ctx))
        ctx.reply(f"{_('Preview:')}\n\n{text}\n\n{note}", rows)
        return
    if not ctx.data.get("at"):
        when = _("now")
    else:
        when = when_text(record.scheduled_at, ctx.locale)
    summary = _("It will go to {total} chats ({groups} groups, {people} people), {when}.").format(
        total=len(recipients), groups=groups, people=len(recipients) - groups, when=when)
    if ctx.data.get("at") and not ctx.data.get("time_given"):
        summary += " " + _("No time was typed, so {time} is used.").format(
            time=f"{record.scheduled_at.astimezone(TIMEZONE):%H:%M}")
    if held and not urgent:
        release = quiet.release_time(record.scheduled_at)
        summary += " " + _("That is in the quiet hours, so it will go at {when}.").format(
            when=when_text(release, ctx.locale))
    if urgent:
        summary = "🚨 " + _("Urgent alert.") + " " + summary
    if ctx.settings.broadcast.require_approval:
        summary += " " + _("An approver must approve it first.")
    heading = _("Preview:")
    ctx.reply(f"{heading}\n\n{text}\n\n{summary}",
              [[Button(_("Confirm"), "bc:ok"), Button(_("Cancel"), "bc:quit")]])


async def _confirm(ctx: Context) -> None:
    member = _staff(ctx)
    if member is None:
        return
    _ = ctx._
    if not (ctx.data.get("message_id") or ctx.data.get("text")):
        ctx.reply(_("That step has expired. Send /phat to start again."))
        return
    record = _record(ctx, member)
    if ctx.data.get("at") and record.scheduled_at <= ctx.now:
        ctx.reply(_("That time has already passed. Please type a time in the future."))
        return
    ctx.session.add(record)
    await ctx.session.flush()
    ctx.clear_state()
    if ctx.settings.broadcast.require_approval:
        approvers = _approvers(ctx, member, broadcast_stations(record))
        if not approvers:
            record.status = "cancelled"
            ctx.reply(_("No approver is configured, so it cannot be sent. Please ask the admin."))
            return
        record.status = "pending_approval"
        audience = broadcasts.staff_audience(record.audience or {})
        count = len(await broadcasts.resolve_audience(
            ctx.session, audience, ctx.settings, broadcasts.audience_stations(record.audience)))
        card = approval_card(ctx, record, count)
        for _approver, channel, chat_id in approvers:
            await deliver(ctx, channel, chat_id, typed_decision(ctx, card, channel, record),
                          f"broadcast:{record.id}:approve:{channel}:{chat_id}")
        ctx.reply(_("Sent for approval to {names}. Nothing goes out before that.").format(
            names=", ".join(a.name for a, _c, _i in approvers)))
        return
    await _release(ctx, record)


def _approvers(ctx: Context, author: StaffMember,
               stations: list[int]) -> list[tuple[StaffMember, str, str]]:
    """Approvers other than the author, of every station it reaches, each with a chat: the
    author's channel first."""
    found = []
    order = [ctx.inbound.channel, *[c for c in ID_FIELDS if c != ctx.inbound.channel]]
    for member in ctx.settings.staff:
        if not allows(member.role, Action.BROADCAST_APPROVE) or member.name == author.name:
            continue
        if not all(may_act_on(member, s) for s in stations):
            continue  # an approver of the stations it reaches (issue 21)
        for channel in order:
            chat_id = getattr(member, ID_FIELDS[channel])
            if chat_id:
                found.append((member, channel, chat_id))
                break
    return found


async def _release(ctx: Context, record: BroadcastRecord) -> None:
    """Queue it now, or leave it for the planner at its time."""
    _ = ctx._
    if record.scheduled_at > ctx.now:
        record.status = "scheduled"
        ctx.reply(_("Scheduled for {when}. Send /huyphat to cancel it.").format(
            when=when_text(record.scheduled_at, ctx.locale)))
        return
    await broadcasts.queue_broadcast(ctx.session, record, ctx.settings, ctx.services.library,
                                     ctx.now)
    wake(ctx)
    ctx.reply(_("Queued for {count} chats. Send /huyphat to stop what has not gone yet.").format(
        count=record.recipients))

