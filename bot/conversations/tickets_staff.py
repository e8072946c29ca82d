"""Staff handle tickets from their chat app: buttons on the ticket card, or commands anywhere.

Buttons (data "tk:<action>:<ticket id>"): Tiếp nhận, Trả lời, Chuyển, Đóng, Trùng lặp, Chặn.
Commands: /tiepnhan <code>, /traloi <code> <text> (a photo may go with it), /chuyen <code>
[category], /dong <code> [closing answer], /trung <code> <original>, /chan <code>, /bochan <code>.
Replying to the card with plain text answers (see `bot.feedback.followup`); replying to it with a
command ("/dong", "/tiepnhan") needs no code. Anyone who is not configured
staff gets a refusal; nothing here ever shows an anonymous author.
"""

from __future__ import annotations

import logging

from bot.config import StaffMember
from bot.context import Context
from bot.feedback import handling
from bot.feedback.categories import categories, category_name
from bot.model import Button
from bot.permissions import Action
from bot.router import Router
from bot.stations import visible
from storage import tickets
from storage.models import Ticket

log = logging.getLogger(__name__)
router = Router()

ANSWER = "tickets.answer"
CODE_PREFIX = f"{tickets.CODE_PREFIX}-"
DUPLICATE = "tickets.duplicate"


def button_action(arg: str) -> Action:
    """Blocking a sender is its own permission; every other ticket button handles the ticket."""
    return Action.TICKET_BLOCK if arg.partition(":")[0] == "block" else Action.TICKET_HANDLE


def _refuse(ctx: Context) -> None:
    log.warning("refused a ticket action from a non-staff %s user", ctx.inbound.channel)
    ctx.reply(ctx._("Sorry, only the health station's staff can do this."))


@router.button("tk", action=button_action)
async def staff_button(ctx: Context) -> None:
    member = ctx.staff_member()
    if member is None:
        _refuse(ctx)
        return
    action, _sep, rest = ctx.args.partition(":")
    ticket_id, _sep, arg = rest.partition(":")
    ticket = visible(ctx, (
        await tickets.ticket_by_id(ctx.session, int(ticket_id)) if ticket_id.isdigit() else None
    ))
    if ticket is None:
        ctx.reply(ctx._("That feedback no longer exists."))
        return
    if action == "acc":
        ctx.reply(await handling.accept(ctx, ticket, member))
    elif action == "ans":
        ctx.set_state(ANSWER, ticket=ticket.id)
        ctx.reply(
            ctx._(
                "Reply to this message with the answer to {code} (you can attach a photo). "
                "It goes to the resident signed by the health station, not by you."
            ).format(code=ticket.code)
        )
    elif action == "mv":
        _category_menu(ctx, ticket)
    elif action == "mvto":
        ctx.reply(await handling.transfer(ctx, ticket, member, arg))
    elif action == "close":
        _ = ctx._
        ctx.reply(
            _("Close feedback {code}? The resident is told it is closed and asked to rate it.")
            .format(code=ticket.code),
            [[Button(_("Yes, close it"), f"tk:closeok:{ticket.id}"),
              Button(_("No, keep it open"), f"tk:keep:{ticket.id}")]],
        )
    elif action == "closeok":
        ctx.reply(await handling.close(ctx, ticket, member))
    elif action == "keep":
        ctx.reply(ctx._("Feedback {code} stays open.").format(code=ticket.code))
    elif action == "dup":
        ctx.set_state(DUPLICATE, ticket=ticket.id)
        ctx.reply(
            ctx._(
                "Reply to this message with the code of the original feedback for {code}."
            ).format(code=ticket.code)
        )
    elif action == "block":
        ctx.reply(await handling.block(ctx, ticket, member))


def _category_menu(ctx: Context, ticket: Ticket) -> None:
    rows = [
        [Button(category_name(c, ctx.locale), f"tk:mvto:{ticket.id}:{c.code}")]
        for c in categories(ctx.settings)
        if c.code != ticket.category
    ]
    ctx.reply(ctx._("Move {code} to which category?").format(code=ticket.code), rows)


@router.state(ANSWER, action=Action.TICKET_HANDLE)
async def answer_typed(ctx: Context) -> None:
    """The answer after "Trả lời"; a reply to another ticket's card answers that one instead."""
    ref = str(ctx.data.get("ticket", ""))
    if ctx.inbound.reply_to_message_id:
        replied = visible(ctx, await tickets.ticket_by_sent_message(
            ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, ctx.inbound.reply_to_message_id
        ))
        ref = str(replied.id) if replied is not None else ref
    member, ticket = await _staff_and_ticket(ctx, ref)
    ctx.clear_state()
    if member is not None and ticket is not None:
        ctx.reply(await handling.answer(ctx, ticket, member, ctx.inbound.text, ctx.inbound.photo))


@router.state(DUPLICATE, action=Action.TICKET_HANDLE)
async def duplicate_typed(ctx: Context) -> None:
    member, ticket = await _staff_and_ticket(ctx, str(ctx.data.get("ticket", "")))
    ctx.clear_state()
    code = ctx.inbound.text.strip().split()[0] if ctx.inbound.text.strip() else ""
    if member is not None and ticket is not None:
        ctx.reply(await handling.mark_duplicate(ctx, ticket, member, code))


async def _staff_and_ticket(
    ctx: Context, ticket_ref: str
) -> tuple[StaffMember | None, Ticket | None]:
    member = ctx.staff_member()
    if member is None:
        _refuse(ctx)
        return None, None
    ticket = None
    if ticket_ref.isdigit():
        ticket = await tickets.ticket_by_id(ctx.session, int(ticket_ref))
    elif ticket_ref:
        ticket = await tickets.ticket_by_code(ctx.session, ticket_ref)
    ticket = visible(ctx, ticket)  # another station's ticket: "not found" (issue 21)
    if ticket is None:
        ctx.reply(ctx._("I could not find feedback {code}.").format(code=ticket_ref[:32] or "?"))
    return member, ticket


async def _from_args(ctx: Context) -> tuple[StaffMember | None, Ticket | None, str]:
    """The ticket a command is about: its code first, or the card the command replies to."""
    code, _sep, rest = ctx.args.strip().partition(" ")
    replied = ctx.inbound.reply_to_message_id
    if not code.upper().startswith(CODE_PREFIX) and replied:
        ticket = visible(ctx, await tickets.ticket_by_sent_message(
            ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, replied
        ))
        member = ctx.staff_member()
        if ticket is not None and member is not None:
            return member, ticket, ctx.args.strip()
    if not code:
        ctx.reply(ctx._("Please add the feedback code, for example PA-2026-000001."))
        return None, None, ""
    member, ticket = await _staff_and_ticket(ctx, code)
    return member, ticket, rest.strip()


@router.command("tiepnhan", "accept", action=Action.TICKET_HANDLE)
async def accept_command(ctx: Context) -> None:
    member, ticket, _rest = await _from_args(ctx)
    if member and ticket:
        ctx.reply(await handling.accept(ctx, ticket, member))


@router.command("traloi", "answer", action=Action.TICKET_HANDLE)
async def answer_command(ctx: Context) -> None:
    """`/traloi <code> <text>`: the text (and a photo sent with it) goes to the resident."""
    member, ticket, text = await _from_args(ctx)
    if member and ticket:
        ctx.reply(await handling.answer(ctx, ticket, member, text, ctx.inbound.photo))


@router.command("chuyen", "transfer", action=Action.TICKET_HANDLE)
async def transfer_command(ctx: Context) -> None:
    member, ticket, target = await _from_args(ctx)
    if member and ticket:
        if target:
            ctx.reply(await handling.transfer(ctx, ticket, member, target.split()[0]))
        else:
            _category_menu(ctx, ticket)


@router.command("dong", "close", action=Action.TICKET_HANDLE)
async def close_command(ctx: Context) -> None:
    """`/dong <code> [closing answer]`: a text after the code goes to the resident first."""
    member, ticket, note = await _from_args(ctx)
    if member and ticket:
        if note or ctx.inbound.photo:
            ctx.reply(await handling.answer(ctx, ticket, member, note, ctx.inbound.photo))
        ctx.reply(await handling.close(ctx, ticket, member))


@router.command("trung", "duplicate", action=Action.TICKET_HANDLE)
async def duplicate_command(ctx: Context) -> None:
    member, ticket, original = await _from_args(ctx)
    if member and ticket:
        ctx.reply(
            await handling.mark_duplicate(
                ctx, ticket, member, original.split()[0] if original else ""
            )
        )


@router.command("chan", "block", action=Action.TICKET_BLOCK)
async def block_command(ctx: Context) -> None:
    member, ticket, _rest = await _from_args(ctx)
    if member and ticket:
        ctx.reply(await handling.block(ctx, ticket, member))


@router.command("bochan", "unblock", action=Action.TICKET_BLOCK)
async def unblock_command(ctx: Context) -> None:
    member, ticket, _rest = await _from_args(ctx)
    if member and ticket:
        ctx.reply(await handling.block(ctx, ticket, member, blocked=False))
