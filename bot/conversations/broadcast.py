"""Staff broadcasts from chat: `/phat` (announcement), `/khancap` (urgent alert), `/huyphat` (cancel).

Only configured staff, only in a private chat with the bot. The flow: a library message (topic ->
entry) or their own text -> the audience (everyone, an area, a topic's subscribers) -> now or a
date and time (dd/mm/yyyy HH:MM, Vietnam time; urgent alerts go now) -> a preview with the exact
recipient count -> confirm. With `broadcast.require_approval` an approver (role approver or admin,
not the author) must approve in their own chat before anything is queued. The audience is resolved
when the broadcast is queued (`scheduler.broadcasts`), so a resident's `/huy` always counts.
Every button and state checks the staff list again: a resident who replays a button is refused.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import or_, select

from bot.alert_templates import load_templates, template
from bot.config import StaffMember
from bot.context import Context
from bot.conversations.broadcast_cards import (
    approval_card,
    close_approval_cards,
    deliver,
    typed_decision,
    wake,
    when_text,
)
from bot.i18n import TIMEZONE, gettext_for
from bot.model import Button, Outbound
from bot.permissions import Action, allows, member_allows
from bot.router import Router
from bot.stations import broadcast_stations, may_act_on, may_decide, reach, scope_of
from bot.vietnamese_time import parse_moment
from scheduler import broadcasts
from storage import outbox
from storage.models import BroadcastRecord, Outbox

log = logging.getLogger(__name__)
router = Router()

TEXT_STATE = "broadcast.text"
WHEN_STATE = "broadcast.when"
PLACE_STATE = "broadcast.place"
MAX_TEXT_CHARS = 1500
PREVIEW_CHARS = 600
ID_FIELDS = {"telegram": "telegram_id", "zalo_bot": "zalo_bot_id", "zalo_oa": "zalo_oa_id",
             "web": "web_id"}
OPEN_STATUSES = ("pending_approval", "scheduled", "queued")


def _cancel_row(ctx: Context) -> list[Button]:
    return [Button(ctx._("Cancel"), "bc:quit")]


def _staff(ctx: Context) -> StaffMember | None:
    """The staff member behind this tap or text, in a private chat; refuse (and log) otherwise."""
    member = ctx.staff_member()
    if member is None or ctx.inbound.chat_kind != "private":
        log.warning("refused a broadcast action from a non-staff %s user", ctx.inbound.channel)
        ctx.clear_state()
        ctx.reply(ctx._("Sorry, this is only for the health station's staff, in a private chat."))
        return None
    return member


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


def _draft(ctx: Context) -> dict[str, object]:
    return {k: v for k, v in ctx.data.items() if k != "menu"}


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
