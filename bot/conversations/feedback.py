"""Residents' feedback and complaints (`/gopy`): category, description, contact, review, send.

The same flow on every channel (numbered menus where there are no buttons). `/phananh` lists the
resident's tickets; `/bosung <code> <text>` (or replying to the station's message about a ticket)
adds to an open one; a closed ticket is rated 1–5. Replies to a staff card in the staff chat are
handed to `tickets_staff`. Diagram: docs/feedback-flow.mmd.

The resident's own tickets (`/phananh`, `/bosung`, ratings) are in `feedback_tickets`, the states
in `feedback_states`; their names stay importable from here.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations import feedback_tickets
from bot.conversations.feedback_states import (  # noqa: F401  (re-exported)
    ADD,
    CATEGORY,
    COMMENT,
    CONTACT,
    DESCRIBE,
    PHONE,
    RATE,
    REVIEW,
    _cancel_row,
)
from bot.conversations.feedback_tickets import (  # noqa: F401  (re-exported)
    _add_pending,
    _ask_pending,
    _list,
    _own_ticket,
    _rate,
    _skip_comment,
    _start_add,
    add_command,
    add_typed,
    comment_typed,
    free_text,
    media,
    my_tickets,
    rating_typed,
)
from bot.feedback import filing
from bot.feedback.categories import categories, category, category_name
from bot.feedback.phone import masked, normalize_phone
from bot.i18n import local_datetime
from bot.model import Button
from bot.router import Router

router = Router()
router.keyword("gopy", "gop y", "gui gop y", "phan anh moi", "khieu nai", "feedback", "complaint")
router.keyword("phananh", "phan anh cua toi", "my feedback", "my tickets")


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


# the resident's own tickets live in their own module; its router is part of this one (here,
# so its commands and states come where they always did)
router.include(feedback_tickets.router)


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

