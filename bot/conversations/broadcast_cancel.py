"""`/huyphat`: a staff member cancels a broadcast that has not gone yet (their own, or any with
the right to). Part of `bot.conversations.broadcast`, whose router includes this one.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.context import Context
from bot.conversations.broadcast_cards import when_text
from bot.conversations.broadcast_common import OPEN_STATUSES, _staff, log
from bot.model import Button
from bot.permissions import Action, member_allows
from bot.router import Router
from bot.stations import may_decide
from storage import outbox
from storage.models import BroadcastRecord, Outbox

router = Router()


@router.command("huyphat", "cancelbroadcast", groups=False,
                action=Action.BROADCAST_CANCEL_OWN)
async def cancel_menu(ctx: Context) -> None:
    if not _staff(ctx):
        return
    _ = ctx._
    stmt = (select(BroadcastRecord)
            .where(BroadcastRecord.kind.in_(("staff", "urgent")),
                   BroadcastRecord.status.in_(OPEN_STATUSES))
            .order_by(BroadcastRecord.scheduled_at.desc()).limit(10))
    waiting = select(Outbox.id).where(Outbox.broadcast_id == BroadcastRecord.id,
                                      Outbox.status.in_((outbox.STATUS_PENDING,
                                                         outbox.STATUS_HELD)))
    # A queued broadcast is listed only while some of its messages have not gone yet.
    stmt = stmt.where(or_(BroadcastRecord.status != "queued", waiting.exists()))
    member = ctx.staff_member()
    if not member_allows(member, Action.BROADCAST_CANCEL_ANY):
        stmt = stmt.where(BroadcastRecord.created_by == (member.name[:64] if member else ""))
    open_ones = [r for r in (await ctx.session.execute(stmt)).scalars().all()
                 if may_decide(member, r)]
    if not open_ones:
        ctx.reply(_("There is no broadcast waiting to be sent."))
        return
    rows = []
    for record in open_ones:
        label = (record.text or record.message_id or "")[:30]
        rows.append([Button(f"{when_text(record.scheduled_at, ctx.locale)} · {label}",
                            f"bcx:{record.id}")])
    ctx.reply(_("Which broadcast do you want to cancel?"), rows)


@router.button("bcx", action=Action.BROADCAST_CANCEL_OWN)
async def cancel(ctx: Context) -> None:
    if not _staff(ctx):
        return
    _ = ctx._
    record = await ctx.session.get(BroadcastRecord, int(ctx.args)) if ctx.args.isdigit() else None
    if not may_decide(ctx.staff_member(), record):  # another station's broadcast (issue 21)
        record = None
    if record is None or record.status not in OPEN_STATUSES or record.kind == "campaign":
        ctx.reply(_("This broadcast has already been decided or cancelled."))
        return
    member = ctx.staff_member()
    if not member_allows(member, Action.BROADCAST_CANCEL_ANY) and (
            member is None or record.created_by != member.name[:64]):
        log.warning("refused cancelling another author's broadcast")
        ctx.reply(_("Sorry, you can cancel only your own broadcasts."))
        return
    record.status = "cancelled"
    stopped = await outbox.set_broadcast_status(
        ctx.session, record.id, from_statuses=(outbox.STATUS_PENDING, outbox.STATUS_HELD),
        to=outbox.STATUS_CANCELLED)
    log.info("broadcast %s cancelled by staff; %d queued messages stopped", record.id, stopped)
    ctx.reply(_("Cancelled. {count} messages that had not gone yet were stopped.").format(
        count=stopped))
