"""Staff broadcasts from chat: `/phat` (announcement), `/khancap` (urgent alert), `/huyphat` (cancel).

Only configured staff, only in a private chat with the bot. The flow: a library message (topic ->
entry) or their own text -> the audience (everyone, an area, a topic's subscribers) -> now or a
date and time (dd/mm/yyyy HH:MM, Vietnam time; urgent alerts go now) -> a preview with the exact
recipient count -> confirm. With `broadcast.require_approval` an approver (role approver or admin,
not the author) must approve in their own chat before anything is queued. The audience is resolved
when the broadcast is queued (`scheduler.broadcasts`), so a resident's `/huy` always counts.
Every button and state checks the staff list again: a resident who replays a button is refused.

This module is the composing flow; the rest lives beside it (and stays importable from here):
`broadcast_common` (limits, staff check), `broadcast_preview` (preview, confirm, release),
`broadcast_approval` (approve/reject), `broadcast_cancel` (`/huyphat`), `broadcast_cards`
(approval cards, delivery) and `broadcast_choice` ("Only some stations").
"""

from __future__ import annotations

from datetime import UTC

from bot.alert_templates import load_templates, template
from bot.context import Context
from bot.conversations import broadcast_approval, broadcast_cancel
from bot.conversations.broadcast_approval import (  # noqa: F401  (re-exported)
    _decide,
    _tell_author,
    approve,
    approve_command,
    reject,
    reject_command,
)
from bot.conversations.broadcast_cancel import cancel, cancel_menu  # noqa: F401  (re-exported)
from bot.conversations.broadcast_cards import when_text
from bot.conversations.broadcast_common import (  # noqa: F401  (re-exported)
    ID_FIELDS,
    MAX_TEXT_CHARS,
    OPEN_STATUSES,
    PLACE_STATE,
    PREVIEW_CHARS,
    TEXT_STATE,
    WHEN_STATE,
    _cancel_row,
    _draft,
    _staff,
    log,
)
from bot.conversations.broadcast_preview import (  # noqa: F401  (re-exported)
    _approvers,
    _confirm,
    _preview,
    _record,
    _release,
)
from bot.model import Button
from bot.permissions import Action
from bot.router import Router
from bot.stations import scope_of
from bot.vietnamese_time import parse_moment
from scheduler import broadcasts

router = Router()


async def _start(ctx: Context, kind: str) -> None:
    _ = ctx._
    ctx.set_state("broadcast", kind=kind)
    intro = _("Urgent alert: it bypasses quiet hours.") if kind == "urgent" else _(
        "New announcement.")
    question = _("What do you want to send?")
    rows = [[Button(_("A message from the library"), "bc:lib")],
            [Button(_("Write my own text"), "bc:text")]]
    if kind == "urgent":
        rows.insert(0, [Button(_("Use an outbreak alert template"), "bc:tpl")])
    ctx.reply(f"{intro} {question}", [*rows, [Button(_("Cancel"), "bc:quit")]])


@router.command("phat", "broadcast", groups=False, action=Action.BROADCAST_COMPOSE)
async def compose(ctx: Context) -> None:
    if _staff(ctx):
        await _start(ctx, "staff")


@router.command("khancap", "urgent", groups=False, action=Action.BROADCAST_URGENT)
async def urgent(ctx: Context) -> None:
    if _staff(ctx):
        await _start(ctx, "urgent")


@router.button("bc", action=Action.BROADCAST_COMPOSE)
async def step(ctx: Context) -> None:
    """Every step of the composing flow: bc:<action>[:<argument>]."""
    if not _staff(ctx):
        return
    _ = ctx._
    action, _sep, arg = ctx.args.partition(":")
    if action == "quit" or not ctx.state.startswith("broadcast"):
        ctx.clear_state()
        ctx.reply(_("Cancelled: nothing was sent."))
        return
    library = ctx.services.library
    if action == "lib":
        ctx.reply(_("Choose a topic:"), [*[[Button(t.title(ctx.locale), f"bc:t:{t.id}")]
                                           for t in library.topics.values()], _cancel_row(ctx)])
    elif action == "t" and arg in library.topics:
        entries = [e for e in library.entries() if e.topic_id == arg and e.approved]
        ctx.reply(_("Choose the message:"), [*[[Button(e.title(ctx.locale), f"bc:e:{e.id}")]
                                              for e in entries], _cancel_row(ctx)])
    elif action == "e" and library.has_entry(arg):
        ctx.update_data(message_id=arg, text=None)
        await _ask_audience(ctx)
    elif action == "tpl":
        ctx.reply(_("Which alert?"), [*[[Button(t.title, f"bc:tp:{t.id}")]
                                        for t in load_templates()], _cancel_row(ctx)])
    elif action == "tp" and template(arg) is not None:
        ctx.set_state(PLACE_STATE, **{**_draft(ctx), "template": arg})
        ctx.reply(_("Where? Type the place, for example “Tổ dân phố 1, ngõ 5”."),
                  [_cancel_row(ctx)])
    elif action == "text":
        ctx.set_state(TEXT_STATE, **_draft(ctx))
        ctx.reply(_("Please type the message (at most {limit} characters).").format(
            limit=MAX_TEXT_CHARS), [_cancel_row(ctx)])
    elif action == "a" and arg == "topics":
        topics = [(t.id, t.title(ctx.locale)) for t in library.topics.values()]
        ctx.reply(_("Subscribers of which topic?"),
                  [*[[Button(title, f"bc:a:topic:{tid}")] for tid, title in topics],
                   _cancel_row(ctx)])
    elif action == "a":
        kind, _sep, value = arg.partition(":")
        ctx.update_data(audience={"kind": kind, "value": value})
        if ctx.data.get("kind") == "urgent":
            ctx.update_data(at=None)
            await _preview(ctx)
        else:
            ctx.reply(_("When should it go?"), [
                [Button(_("Now"), "bc:w:now")], [Button(_("At a date and time"), "bc:w:later")],
                _cancel_row(ctx)])
    elif action == "w" and arg == "now":
        ctx.update_data(at=None, force=False)
        await _preview(ctx)
    elif action == "w" and arg == "quiet":  # "send at 07:00", offered when now is quiet time
        release = broadcasts.quiet_hours(ctx.settings).release_time(ctx.now)
        ctx.update_data(at=release.astimezone(UTC).isoformat(), force=False, time_given=True)
        await _preview(ctx)
    elif action == "w" and arg == "force" and ctx.data.get("kind") == "urgent":
        ctx.update_data(at=None, force=True)
        await _preview(ctx)
    elif action == "w":
        ctx.set_state(WHEN_STATE, **_draft(ctx))
        ctx.reply(_("Type the date and time, for example: {examples}.").format(
            examples="“mai 8h”, “thứ Hai 7h30”, “1/12 8:00”, “20h hôm nay”"), [_cancel_row(ctx)])
    elif action == "ok":
        await _confirm(ctx)
    else:
        ctx.reply(_("That step has expired. Send /phat to start again."))


async def _ask_audience(ctx: Context) -> None:
    _ = ctx._
    rows = [[Button(_("Everyone (all groups and subscribers)"), "bc:a:all")]]
    rows += [[Button(area.name, f"bc:a:area:{area.code}")] for area in ctx.settings.areas]
    rows.append([Button(_("Subscribers of a topic"), "bc:a:topics")])
    member, settings = ctx.staff_member(), ctx.services.settings
    if member is not None and len(scope_of(member, settings)) > 1:  # issue 21: a list of stations
        rows.append([Button(_("Only some stations"), "bcs")])  # broadcast_choice.py
    rows.append(_cancel_row(ctx))
    ctx.reply(_("Who should receive it?"), rows)


@router.state(TEXT_STATE, action=Action.BROADCAST_COMPOSE)
async def typed_text(ctx: Context) -> None:
    if not _staff(ctx):
        return
    text = ctx.inbound.text.strip()
    if not text or len(text) > MAX_TEXT_CHARS:
        ctx.reply(ctx._("Please type the message (at most {limit} characters).").format(
            limit=MAX_TEXT_CHARS), [_cancel_row(ctx)])
        return
    ctx.set_state("broadcast", **{**_draft(ctx), "text": text, "message_id": None})
    await _ask_audience(ctx)


@router.state(PLACE_STATE, action=Action.BROADCAST_COMPOSE)
async def typed_place(ctx: Context) -> None:
    """The one blank of an alert template: the place; the alert then goes like typed text."""
    if not _staff(ctx):
        return
    chosen = template(str(ctx.data.get("template", "")))
    place = ctx.inbound.text.strip()
    if chosen is None or not place:
        ctx.reply(ctx._("Where? Type the place, for example “Tổ dân phố 1, ngõ 5”."),
                  [_cancel_row(ctx)])
        return
    text = chosen.fill(place, ctx.settings.station.phone)
    ctx.set_state("broadcast", **{**_draft(ctx), "text": text, "message_id": None})
    await _ask_audience(ctx)


@router.state(WHEN_STATE, action=Action.BROADCAST_COMPOSE)
async def typed_when(ctx: Context) -> None:
    if not _staff(ctx):
        return
    _ = ctx._
    moment = parse_moment(ctx.inbound.text, ctx.now)
    if moment is None:
        ctx.reply(_("I could not read that. Please type a date and time, for example: "
                    "{examples}.").format(examples="“mai 8h”, “thứ Hai 7h30”, “1/12 8:00”"),
                  [_cancel_row(ctx)])
        return
    if moment.at <= ctx.now:
        ctx.reply(_("{when} has already passed. Please type a time in the future.").format(
            when=when_text(moment.at, ctx.locale)), [_cancel_row(ctx)])
        return
    ctx.set_state("broadcast", **{**_draft(ctx), "at": moment.at.isoformat(), "force": False,
                                  "time_given": moment.time_given})
    await _preview(ctx)


# approving and cancelling live in their own modules; their routers are part of this one
router.include(broadcast_approval.router)
router.include(broadcast_cancel.router)
