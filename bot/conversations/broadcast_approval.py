"""An approver's decision on a staff broadcast: buttons (bcy/bcn) or `/duyet` / `/tuchoi`.

With `broadcast.require_approval` an approver (not the author) decides in their own chat; the
author is told. Part of `bot.conversations.broadcast`, whose router includes this one.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations.broadcast_cards import close_approval_cards, deliver
from bot.conversations.broadcast_common import ID_FIELDS, _staff, log
from bot.conversations.broadcast_preview import _release
from bot.i18n import gettext_for
from bot.model import Outbound
from bot.permissions import Action
from bot.router import Router
from bot.stations import may_decide
from storage.models import BroadcastRecord

router = Router()


@router.button("bcy", action=Action.BROADCAST_APPROVE)
async def approve(ctx: Context) -> None:
    await _decide(ctx, approved=True)


@router.button("bcn", action=Action.BROADCAST_APPROVE)
async def reject(ctx: Context) -> None:
    await _decide(ctx, approved=False)


# Zalo Bot shows no buttons on a card sent later, so its card names these typed twins instead.
@router.command("duyet", "approve", groups=False, action=Action.BROADCAST_APPROVE)
async def approve_command(ctx: Context) -> None:
    ctx.args = ctx.args.strip()
    await _decide(ctx, approved=True)


@router.command("tuchoi", "reject", groups=False, action=Action.BROADCAST_APPROVE)
async def reject_command(ctx: Context) -> None:
    ctx.args = ctx.args.strip()
    await _decide(ctx, approved=False)


async def _decide(ctx: Context, approved: bool) -> None:
    member = _staff(ctx)
    if member is None:
        return
    _ = ctx._
    record = await ctx.session.get(BroadcastRecord, int(ctx.args)) if ctx.args.isdigit() else None
    if not may_decide(member, record):  # another station's broadcast (issue 21)
        record = None
    if record and record.created_by == member.name:
        log.warning("refused a broadcast approval by a staff member without the right")
        ctx.reply(_("Sorry, only an approver other than the author can decide."))
        return
    if record is None or record.status != "pending_approval":
        ctx.reply(_("This broadcast has already been decided or cancelled."))
        return
    record.approved_by = member.name[:64]
    if not approved:
        record.status = "rejected"
        ctx.reply(_("Rejected: it will not be sent."))
    else:
        await _release(ctx, record)
    await close_approval_cards(ctx, record, member, approved)
    await _tell_author(ctx, record, approved)


async def _tell_author(ctx: Context, record: BroadcastRecord, approved: bool) -> None:
    author = next((m for m in ctx.settings.staff if m.name == record.created_by), None)
    if author is None:
        return
    for channel, field in ID_FIELDS.items():
        if chat_id := getattr(author, field):
            _ = gettext_for(ctx.settings.station.default_language)
            text = (_("{name} approved your broadcast.") if approved
                    else _("{name} rejected your broadcast.")).format(name=record.approved_by)
            await deliver(ctx, channel, chat_id, Outbound(text=text),
                          f"broadcast:{record.id}:author")
            return

