"""Free yearly check-ups: staff change or cancel a session from the chat (issue 20).

    /suakham 3 gio 16/12/2026 07:30-11:00     new date and time window
    /suakham 3 noi Nhà văn hoá TDP2           new place
    /suakham 3 cho 15                         places per 30-minute slot
    /suakham 3 huy                            cancel (asks to confirm)

Residents who booked are told through the outbox (quiet hours kept): the new time or place with a
button to see their booking, or the cancellation. Their reminders are re-queued with the new
details (or cancelled). A change of places per slot concerns no booking: nobody is told. A new
window keeps each booked time in its order (shifted by the change of start) and is refused when a
booked time would fall outside it; fewer places than already booked in a slot is refused too.
"""

from __future__ import annotations

from datetime import UTC

from bot.checkups.messages import (
    PRIORITY_CHECKUP,
    cancel_reminders,
    describe,
    hhmm,
    private_chat_of,
    queue_reminders,
)
from bot.context import Context
from bot.conversations.checkups_staff import SLOT_MINUTES, parse_window
from bot.i18n import gettext_for, local_date, normalize_locale
from bot.model import Button, Outbound
from bot.permissions import Action
from bot.router import Router
from bot.stations import may_act_on
from content.normalize import normalize
from scheduler.broadcasts import quiet_hours
from storage import checkups, outbox
from storage.models import CheckupBooking, CheckupSession

router = Router()
MAX_PLACES = 500  # as /taokham

VERBS = {"gio": "time", "time": "time", "ngay": "time", "noi": "place", "place": "place",
         "dia diem": "place", "cho": "places", "places": "places", "huy": "cancel",
         "cancel": "cancel"}


def _usage(ctx: Context) -> str:
    return ctx._("Change or cancel a session:\n/suakham <no.> gio 16/12/2026 07:30-11:00\n"
                 "/suakham <no.> noi <new place>\n/suakham <no.> cho <places per 30 minutes>\n"
                 "/suakham <no.> huy")


async def _editable(ctx: Context, session_id: int) -> CheckupSession | None:
    """The member's station's session, still open and not over; says why not otherwise."""
    row = await checkups.get_session(ctx.session, session_id)
    if row is None or not may_act_on(ctx.staff_member(), row.station_id):
        ctx.reply(ctx._("There is no session {id}.").format(id=session_id))
        return None
    if row.status != "open" or row.ends_at <= ctx.now:
        ctx.reply(ctx._("Session {id} is over or cancelled: it cannot be changed.").format(
            id=session_id))
        return None
    return row


@router.command("suakham", "editcheckup", action=Action.CHECKUP_MANAGE)
async def edit_session(ctx: Context) -> None:
    _ = ctx._
    number, _sep, rest = ctx.args.strip().partition(" ")
    words = rest.strip().split(maxsplit=1)
    verb = VERBS.get(normalize(words[0])) if words else None
    value = words[1].strip() if len(words) > 1 else ""
    if not number.isdigit() or verb is None:
        ctx.reply(_usage(ctx))
        return
    row = await _editable(ctx, int(number))
    if row is None:
        return
    if verb == "cancel":
        ctx.reply(describe(ctx.settings, row, ctx.locale) + "\n\n" + _(
            "Cancel session {id}? Everyone who booked will be told.").format(id=row.id),
            [[Button(_("Yes, cancel the session"), f"cked:x:{row.id}")],
             [Button(_("Keep it"), f"ckst:l:{row.id}")]])
        return
    if verb == "places":
        if not value.isdigit() or int(value) > MAX_PLACES \
                or not await checkups.set_capacity(ctx.session, row, int(value)):
            ctx.reply(_("Places per 30 minutes must be a number from 1 to 500, and not fewer "
                        "than already booked in any time."))
            return
        ctx.reply(_("Session {id}: {places} places per 30 minutes.").format(id=row.id,
                                                                         places=int(value)))
        return
    if verb == "place":
        if not value:
            ctx.reply(_("Please write the place."))
            return
        row.place = value[:255]
    else:
        window = parse_window(value)
        if window is None or window[0] <= ctx.now:
            ctx.reply(_("The date or time window is not right (e.g. 15/12/2026 07:30-11:00).")
                      + "\n" + _("The session must be in the future."))
            return
        starts, ends = (w.astimezone(UTC) for w in window)
        if not await checkups.reschedule(ctx.session, row, starts, ends, SLOT_MINUTES):
            ctx.reply(_("Some residents booked a time that would fall outside the new window. "
                        "Choose a window that keeps them, or cancel the session."))
            return
    told = await _tell_booked(ctx, row, cancelled=False)
    ctx.reply(_("Session {id} changed; residents told: {count}.").format(id=row.id, count=told)
              + "\n\n" + describe(ctx.settings, row, ctx.locale))


@router.button("cked", action=Action.CHECKUP_MANAGE)
async def edit_button(ctx: Context) -> None:
    verb, _sep, rest = ctx.args.partition(":")
    if verb != "x" or not rest.isdigit():
        ctx.reply(_usage(ctx))
        return
    row = await _editable(ctx, int(rest))
    if row is None:
        return
    told = await _tell_booked(ctx, row, cancelled=True)
    ctx.reply(ctx._("Session {id} is cancelled; residents told: {count}.").format(
        id=row.id, count=told))


async def _tell_booked(ctx: Context, row: CheckupSession, *, cancelled: bool) -> int:
    """Tell everyone still booked (outbox, quiet hours kept); re-queue or cancel reminders."""
    bookings = (await checkups.cancel_session(ctx.session, row) if cancelled
                else [b for b, _at in await checkups.bookings_of(ctx.session, row.id)
                      if b.status == "booked"])
    not_before = quiet_hours(ctx.settings).release_time(ctx.now).astimezone(UTC)
    told = 0
    for booking in bookings:
        await cancel_reminders(ctx.session, booking.id)
        chat = await private_chat_of(ctx.session, booking.person_id) \
            if booking.person_id is not None else None
        if chat is None:
            continue
        channel, chat_id, locale_code, _station = chat
        locale = normalize_locale(locale_code or ctx.settings.station.default_language)
        slot = await checkups.slot(ctx.session, booking.slot_id)
        assert slot is not None
        message = _change_message(ctx, row, booking, slot.starts_at, locale, cancelled)
        key = f"checkup-{'cancelled' if cancelled else 'changed'}:{booking.id}:" \
              f"{int(ctx.now.timestamp())}"
        told += await outbox.enqueue(
            ctx.session, dedupe_key=key, channel=channel, chat_id=chat_id,
            payload=message.to_payload(), priority=PRIORITY_CHECKUP, not_before=not_before)
        if not cancelled:
            await queue_reminders(
                ctx.session, ctx.settings, booking_id=booking.id, slot_id=slot.id,
                slot_at=slot.starts_at, row=row, channel=channel, chat_id=chat_id,
                locale=locale, now=ctx.now)
    return told


def _change_message(ctx: Context, row: CheckupSession, booking: CheckupBooking, slot_at,  # noqa: ANN001
                    locale: str, cancelled: bool) -> Outbound:
    _ = gettext_for(locale)
    if cancelled:
        return Outbound(text=_(
            "Sorry: the free check-up of {date} at {place} is cancelled by the station. Your "
            "booking is cancelled too; we will invite you to the next session. Questions: "
            "{phone}.").format(date=local_date(slot_at, locale), place=row.place,
                               phone=ctx.settings.station.phone))
    return Outbound(
        text=_("The station changed your free check-up. Your time is now {time}, {date}.").format(
            time=hhmm(slot_at), date=local_date(slot_at, locale))
        + "\n" + describe(ctx.settings, row, locale),
        buttons=((Button(_("My booking"), f"ck:b:{booking.id}"),),))
