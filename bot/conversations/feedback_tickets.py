"""A resident's own tickets (`/phananh`): the list, `/bosung` additions, ratings and comments.

Also the replies about a ticket (to the staff card or the station's message) and photos sent
outside the flow. Part of `bot.conversations.feedback`, whose router includes this one.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations.feedback_states import ADD, COMMENT, RATE, _cancel_row
from bot.conversations.topics import answer_question
from bot.feedback import filing, followup
from bot.model import Button
from bot.router import Router
from storage import tickets
from storage.models import Ticket

router = Router()


@router.command("phananh", "mytickets", groups=False)
async def my_tickets(ctx: Context) -> None:
    """The resident's own tickets and their status (never anyone else's)."""
    text, rows = await followup.own_tickets(ctx)
    ctx.reply(text, rows)


async def _list(ctx: Context, _arg: str) -> None:
    await my_tickets(ctx)


async def _start_add(ctx: Context, arg: str) -> None:
    ticket = await _own_ticket(ctx, arg)
    if ticket is None:
        return
    ctx.set_state(ADD, ticket=ticket.id)
    ctx.reply(
        (
            ctx._("Please type what you would like to add to {code} (you can send a photo).")
            if ctx.caps.media
            else ctx._("Please type what you would like to add to {code}.")
        ).format(code=ticket.code),
        [_cancel_row(ctx)],
    )


async def _own_ticket(ctx: Context, ticket_id: str) -> Ticket | None:
    ticket = None
    if ticket_id.isdigit():
        ticket = await tickets.ticket_for_resident(
            ctx.session, ctx.contact.person.id, ticket_id=int(ticket_id)
        )
    if ticket is None:
        ctx.reply(ctx._("I could not find that feedback among yours."))
    return ticket


@router.state(ADD)
async def add_typed(ctx: Context) -> None:
    ticket = await _own_ticket(ctx, str(ctx.data.get("ticket", "")))
    ctx.clear_state()
    if ticket is not None:
        ctx.reply(await filing.add_to_ticket(ctx, ticket, ctx.inbound.text, ctx.inbound.photo))


@router.command("bosung", "addinfo", groups=False)
async def add_command(ctx: Context) -> None:
    """`/bosung <code> <text>`: add to one's own open ticket."""
    code, _sep, text = ctx.args.strip().partition(" ")
    if not code:
        ctx.reply(ctx._("Please type /bosung followed by the feedback code and your text."))
        return
    ticket = await tickets.ticket_for_resident(ctx.session, ctx.contact.person.id, code=code)
    if ticket is None:
        ctx.reply(ctx._("I could not find feedback {code} among yours.").format(code=code[:32]))
        return
    ctx.reply(await filing.add_to_ticket(ctx, ticket, text.strip(), ctx.inbound.photo))


async def _rate(ctx: Context, arg: str) -> None:
    ticket_id, _sep, stars = arg.partition(":")
    await followup.rate(ctx, ticket_id, stars)


async def _add_pending(ctx: Context, arg: str) -> None:
    await followup.add_pending(ctx, arg)


async def _ask_pending(ctx: Context, _arg: str) -> None:
    text = str(ctx.data.get("text") or "")
    ctx.clear_state()
    if text:
        await answer_question(ctx, text)
    else:
        ctx.reply(ctx._("Main menu"), [[Button(ctx._("Main menu"), "menu")]])


async def _skip_comment(ctx: Context, _arg: str) -> None:
    ctx.clear_state()
    ctx.reply(ctx._("Thank you for your rating!"), [[Button(ctx._("Main menu"), "menu")]])


@router.state(RATE)
async def rating_typed(ctx: Context) -> None:
    """A typed 1–5 rates the closed ticket; anything else is an ordinary message again."""
    text = ctx.inbound.text.strip()
    if text.isdigit():
        await followup.rate(ctx, str(ctx.data.get("ticket", "")), text)
        return
    ctx.clear_state()
    await free_text(ctx)


@router.state(COMMENT)
async def comment_typed(ctx: Context) -> None:
    await followup.comment(ctx, str(ctx.data.get("ticket", "")), ctx.inbound.text.strip())


@router.text
async def free_text(ctx: Context) -> None:
    """Replies about a ticket (staff card, station message) go to it; other text is a question."""
    if not await followup.reply_to_ticket(ctx):
        await answer_question(ctx, ctx.inbound.text)


@router.media
async def media(ctx: Context) -> None:
    """A photo or location outside the flow: a reply about a ticket, or an offer to file one."""
    if await followup.reply_to_ticket(ctx):
        return
    if ctx.inbound.chat_kind != "private":
        return
    ctx.reply(
        ctx._(
            "Thank you. To send a photo or location as feedback to the station, start with /gopy."
        ),
        [[Button(ctx._("Send feedback"), "cmd:gopy")], [Button(ctx._("Main menu"), "menu")]],
    )
