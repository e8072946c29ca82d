"""Residents' feedback and complaints (`/gopy`): category, description, contact, review, send.

The same flow on every channel (numbered menus where there are no buttons). `/phananh` lists the
resident's tickets; `/bosung <code> <text>` (or replying to the station's message about a ticket)
adds to an open one; a closed ticket is rated 1–5. Replies to a staff card in the staff chat are
handed to `tickets_staff`. Diagram: docs/feedback-flow.mmd.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations.topics import answer_question
from bot.feedback import filing, followup
from bot.feedback.categories import categories, category, category_name
from bot.feedback.phone import masked, normalize_phone
from bot.i18n import local_datetime
from bot.model import Button
from bot.router import Router
from storage import tickets
from storage.models import Ticket

router = Router()
router.keyword("gopy", "gop y", "gui gop y", "phan anh moi", "khieu nai", "feedback", "complaint")
router.keyword("phananh", "phan anh cua toi", "my feedback", "my tickets")

CATEGORY = "feedback.category"
DESCRIBE = "feedback.describe"
CONTACT = "feedback.contact"
PHONE = "feedback.phone"
REVIEW = "feedback.review"
ADD = "feedback.add"
RATE = "feedback.rate"
COMMENT = "feedback.comment"


def _cancel_row(ctx: Context) -> list[Button]:
    return [Button(ctx._("Cancel"), "fb:cancel")]


@router.command("gopy", "feedback", groups=False)
async def start_feedback(ctx: Context) -> None:
    """Step 1: what is it about?"""
    refusal = await filing.refusal(ctx)
    if refusal:
        ctx.reply(refusal, [[Button(ctx._("Main menu"), "menu")]])
        return
    ctx.set_state(CATEGORY)
    _category_menu(ctx)


def _category_menu(ctx: Context) -> None:
    rows = [
        [Button(category_name(c, ctx.locale), f"fb:cat:{c.code}")] for c in categories(ctx.settings)
    ]
    rows.append(_cancel_row(ctx))
    ctx.reply(ctx._("What is your feedback about? Please choose a category."), rows)


@router.button("fb")
async def feedback_button(ctx: Context) -> None:
    action, _sep, arg = ctx.args.partition(":")
    handler = BUTTONS.get(action)
    if handler is None or ctx.inbound.chat_kind != "private":
        return
    await handler(ctx, arg)


async def _chose_category(ctx: Context, code: str) -> None:
    if ctx.state != CATEGORY or category(ctx.settings, code) is None:
        await start_feedback(ctx)
        return
    ctx.set_state(DESCRIBE, category=code)
    ctx.reply(
        ctx._(
            "Please describe the problem: what happened, where and when. You can also send a "
            "photo or your location."
        )
        if ctx.caps.media
        else ctx._("Please describe the problem: what happened, where and when."),
        [_cancel_row(ctx)],
    )


@router.state(DESCRIBE)
async def describe(ctx: Context) -> None:
    """Step 2: text, and optionally a photo and a location, in any order."""
    _ = ctx._
    data, inbound = ctx.data, ctx.inbound
    text = inbound.text.strip()
    if text:
        combined = f"{data['text']}\n{text}" if data.get("text") else text
        problem = filing.too_long(ctx, combined)
        if problem:
            ctx.reply(problem, [_cancel_row(ctx)])
            return
        ctx.update_data(text=combined)
    if inbound.photo:
        ctx.update_data(photo=inbound.photo)
    if inbound.location:
        ctx.update_data(lat=inbound.location.latitude, lon=inbound.location.longitude)
    if not ctx.data.get("text"):
        ctx.reply(
            _("Received. Please also describe the problem in a few words."), [_cancel_row(ctx)]
        )
        return
    ctx.reply(
        _("Received. You can still send a photo or your location, or continue.")
        if ctx.caps.media
        else _("Received. You can add more, or continue."),
        [[Button(_("Continue"), "fb:more")], _cancel_row(ctx)],
    )


async def _ask_contact(ctx: Context, _arg: str) -> None:
    if ctx.state != DESCRIBE or not ctx.data.get("text"):
        await start_feedback(ctx)
        return
    ctx.set_state(CONTACT, **_draft(ctx))
    _contact_menu(ctx)


def _contact_menu(ctx: Context) -> None:
    _ = ctx._
    ctx.reply(
        _("Would you like the station to be able to call you back?"),
        [
            [Button(_("Leave my phone number"), "fb:phone")],
            [Button(_("Send without a phone number"), "fb:named")],
            [Button(_("Send anonymously"), "fb:anon")],
            _cancel_row(ctx),
        ],
    )


def _draft(ctx: Context) -> dict[str, object]:
    keep = ("category", "text", "photo", "lat", "lon", "phone", "anonymous")
    return {k: v for k, v in ctx.data.items() if k in keep}


async def _ask_phone(ctx: Context, _arg: str) -> None:
    if ctx.state != CONTACT:
        await start_feedback(ctx)
        return
    _ = ctx._
    ctx.set_state(PHONE, **_draft(ctx))
    rows: list[list[Button]] = []
    known = ctx.contact.person.phone
    if known:
        rows.append([Button(_("Use {phone}").format(phone=masked(known)), "fb:usephone")])
    rows.append(_cancel_row(ctx))
    ctx.reply(
        _(
            "Please type your phone number. The station uses it only to call you back about this "
            "feedback; only the staff handling it can see it, it is never shared, and you can "
            "delete it any time with /dulieu."
        ),
        rows,
    )


@router.state(PHONE)
async def phone_typed(ctx: Context) -> None:
    number = normalize_phone(ctx.inbound.text)
    if number is None:
        ctx.reply(
            ctx._(
                "That does not look like a Vietnamese phone number. Please type it again: "
                "10 digits for a mobile (starting with 03, 05, 07, 08 or 09), or a landline with "
                "its area code."
            ),
            [_cancel_row(ctx)],
        )
        return
    await _with_phone(ctx, number)


async def _use_known_phone(ctx: Context, _arg: str) -> None:
    if ctx.state != PHONE or not ctx.contact.person.phone:
        await start_feedback(ctx)
        return
    await _with_phone(ctx, ctx.contact.person.phone)


async def _with_phone(ctx: Context, number: str) -> None:
    person = ctx.contact.person
    person.phone = number  # normalised once, here
    person.consent_at = ctx.now
    ctx.set_state(REVIEW, **{**_draft(ctx), "phone": number, "anonymous": False})
    await _review(ctx)


async def _named(ctx: Context, _arg: str) -> None:
    await _choose_identity(ctx, anonymous=False)


async def _anonymous(ctx: Context, _arg: str) -> None:
    await _choose_identity(ctx, anonymous=True)


async def _choose_identity(ctx: Context, *, anonymous: bool) -> None:
    if ctx.state != CONTACT:
        await start_feedback(ctx)
        return
    draft = {**_draft(ctx), "anonymous": anonymous}
    draft.pop("phone", None)
    ctx.set_state(REVIEW, **draft)
    await _review(ctx)


async def _review(ctx: Context) -> None:
    """Step 4: show everything once more before sending."""
    ctx.reply(
        filing.review_text(ctx, ctx.data), [[Button(ctx._("Send"), "fb:send")], _cancel_row(ctx)]
    )


async def _send(ctx: Context, _arg: str) -> None:
    """Step 5: the ticket and its staff notification are committed before the code is shown."""
    _ = ctx._
    if ctx.state != REVIEW:
        ctx.reply(_("There is nothing to send. To send feedback, type /gopy."))
        return
    refusal = await filing.refusal(ctx)
    if refusal:
        ctx.clear_state()
        ctx.reply(refusal)
        return
    ticket = await filing.file_ticket(ctx, ctx.data)
    ctx.clear_state()
    assert ticket.accept_due is not None and ticket.resolve_due is not None
    ctx.reply(
        (
            _(
                "Thank you! Your feedback has been recorded with the code {code}. The health "
                "station will accept it by {accept} and aims to resolve it by {resolve}. The "
                "answer will come to this chat. To add something later, reply to the station's "
                "message or type /bosung {code} followed by your text."
            )
            if ctx.caps.replies
            else _(
                "Thank you! Your feedback has been recorded with the code {code}. The health "
                "station will accept it by {accept} and aims to resolve it by {resolve}. The "
                "answer will come to this chat. To add something later, type /bosung {code} "
                "followed by your text."
            )
        ).format(
            code=ticket.code,
            accept=local_datetime(ticket.accept_due, ctx.locale),
            resolve=local_datetime(ticket.resolve_due, ctx.locale),
        ),
        [[Button(_("My feedback"), "fb:list")], [Button(_("Main menu"), "menu")]],
    )


async def _cancel(ctx: Context, _arg: str) -> None:
    ctx.clear_state()
    ctx.reply(ctx._("Cancelled. Nothing was sent."), [[Button(ctx._("Main menu"), "menu")]])


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


@router.state("feedback")
async def step_reprompt(ctx: Context) -> None:
    """Typed text where a choice is expected: show the same choices again (numbers keep working)."""
    if ctx.state == CATEGORY:
        _category_menu(ctx)
    elif ctx.state == CONTACT:
        _contact_menu(ctx)
    elif ctx.state == REVIEW:
        await _review(ctx)
    else:  # an offer to add a reply to a ticket, left unanswered: treat the text as a question
        ctx.clear_state()
        await free_text(ctx)


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


BUTTONS = {
    "cat": _chose_category,
    "more": _ask_contact,
    "phone": _ask_phone,
    "usephone": _use_known_phone,
    "named": _named,
    "anon": _anonymous,
    "send": _send,
    "cancel": _cancel,
    "list": _list,
    "add": _start_add,
    "rate": _rate,
    "skip": _skip_comment,
    "addp": _add_pending,
    "askp": _ask_pending,
}
