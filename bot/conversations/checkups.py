"""Free yearly check-ups, the resident's side (`/khamsuckhoe`): choose a session and a time, give
consent, then name, birth year and phone; see, move or cancel the booking.

Nothing personal is stored before the resident agrees: refusing ends the flow with nothing
written. The place is taken only at the last step (`storage.checkups.book`, never overbooked); a
slot that filled meanwhile offers the others. Staff create sessions and mark attendance in
`bot.conversations.checkups_staff`.
"""

from __future__ import annotations

from bot.checkups.messages import cancel_reminders, describe, hhmm, queue_reminders
from bot.context import Context
from bot.feedback.phone import normalize_phone
from bot.i18n import TIMEZONE, local_date
from bot.model import Button
from bot.router import Router
from storage import checkups
from storage.models import CheckupBooking, CheckupSession, CheckupSlot

router = Router()
router.keyword("khamsuckhoe", "kham suc khoe", "lich kham", "dat lich kham", "kham dinh ky",
               "checkup", "check-up")

NAME_STATE = "checkups.name"
YEAR_STATE = "checkups.year"
PHONE_STATE = "checkups.phone"
OLDEST_AGE = 120


@router.command("khamsuckhoe", "checkup", groups=False)
async def checkups_menu(ctx: Context) -> None:
    """The resident's booking if there is one, otherwise the sessions for their area."""
    _ = ctx._
    booking = await checkups.active_booking(ctx.session, ctx.contact.person.id)
    if booking is not None:
        await show_booking(ctx, booking.id)
        return
    sessions = await checkups.upcoming_sessions(ctx.session, ctx.now, ctx.contact.person.area_code,
                                                station_id=ctx.station_id)
    if not sessions:
        ctx.reply(_("There is no check-up session open for booking now. Subscribe with /theodoi "
                    "and the station will invite you when one is planned. Phone: {phone}.")
                  .format(phone=ctx.settings.station.phone),
                  [[Button(_("Main menu"), "menu")]])
        return
    rows = [[Button(f"{local_date(s.starts_at, ctx.locale)} · {s.place}"[:60], f"ck:s:{s.id}")]
            for s in sessions[:8]]
    rows.append([Button(_("Main menu"), "menu")])
    ctx.reply(_("Free yearly check-ups: choose a session."), rows)


@router.button("ck")
async def checkup_button(ctx: Context) -> None:
    if ctx.inbound.chat_kind != "private":
        ctx.reply(ctx._("Please use this command in a private chat with me."))
        return
    verb, _sep, rest = ctx.args.partition(":")
    number = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else 0
    if verb == "s":
        await show_session(ctx, number)
    elif verb == "t":
        await ask_consent(ctx, number)
    elif verb == "ok":
        await consent_given(ctx, number)
    elif verb == "no":
        ctx.clear_state()
        ctx.reply(ctx._("All right, nothing was stored. You can book any time with /khamsuckhoe."),
                  [[Button(ctx._("Main menu"), "menu")]])
    elif verb == "b":
        await show_booking(ctx, number)
    elif verb == "cancel":
        await cancel_booking(ctx, number)
    elif verb == "move":
        await offer_move(ctx, number)
    elif verb == "mv" and rest.count(":") == 1 and rest.split(":")[1].isdigit():
        await move_booking(ctx, number, int(rest.split(":")[1]))
    else:
        await checkups_menu(ctx)


async def slot_rows(ctx: Context, session_id: int, prefix: str, skip: int = 0) -> list[list[Button]]:
    _ = ctx._
    return [[Button(_("{time} ({free} places left)").format(time=hhmm(s.starts_at), free=s.free),
                    f"{prefix}{s.id}")]
            for s in await checkups.slots(ctx.session, session_id)
            if s.free > 0 and s.id != skip and s.starts_at > ctx.now]


async def session_here(ctx: Context, session_id: int) -> CheckupSession | None:
    """The session if this resident may book it: their station's, open, not over, and for their
    area (or every area). Ids typed by hand (`ck:s:7`) are checked like buttons."""
    row = await checkups.get_session(ctx.session, session_id)
    if row is None or row.station_id != ctx.station_id or row.status != "open" \
            or row.ends_at <= ctx.now:
        return None
    area = (ctx.contact.person.area_code or "").upper()
    if row.areas and area and area not in row.areas:
        return None
    return row


async def slot_here(ctx: Context, slot_id: int) -> CheckupSlot | None:
    """The slot if it is still ahead in a session this resident may book (`session_here`)."""
    found = await checkups.slot(ctx.session, slot_id)
    if found is None or found.starts_at <= ctx.now \
            or await session_here(ctx, found.session_id) is None:
        return None
    return found


async def show_session(ctx: Context, session_id: int) -> None:
    _ = ctx._
    row = await session_here(ctx, session_id)
    if row is None:
        ctx.reply(_("This session is no longer open."))
        await checkups_menu(ctx)
        return
    mine = await checkups.active_booking(ctx.session, ctx.contact.person.id, session_id)
    if mine is not None:
        await show_booking(ctx, mine.id)
        return
    rows = await slot_rows(ctx, session_id, "ck:t:")
    text = describe(ctx.settings, row, ctx.locale)
    if not rows:
        ctx.reply(text + "\n\n" + _("Sorry, every time of this session is fully booked. Please "
                                    "call the station at {phone}.").format(
                                        phone=ctx.settings.station.phone),
                  [[Button(_("Main menu"), "menu")]])
        return
    ctx.reply(text + "\n\n" + _("Choose a time:"), rows + [[Button(_("Main menu"), "menu")]])


async def ask_consent(ctx: Context, slot_id: int) -> None:
    _ = ctx._
    if await slot_here(ctx, slot_id) is None:
        await checkups_menu(ctx)
        return
    ctx.clear_state()
    ctx.reply(
        _("To book, the station stores your full name, birth year and phone number. They are used "
          "only for this check-up (the sign-in list and reminders), never shared, and you can "
          "delete them any time with /dulieu. Do you agree?"),
        [[Button(_("I agree"), f"ck:ok:{slot_id}")], [Button(_("No, thanks"), "ck:no")]],
    )


async def consent_given(ctx: Context, slot_id: int) -> None:
    if await slot_here(ctx, slot_id) is None:
        await checkups_menu(ctx)
        return
    if ctx.contact.person.consent_at is None:
        ctx.contact.person.consent_at = ctx.now
    ctx.set_state(NAME_STATE, slot=slot_id)
    ctx.reply(ctx._("Please type your full name (as on your CCCD)."))


@router.state(NAME_STATE)
async def name_given(ctx: Context) -> None:
    name = " ".join(ctx.inbound.text.split())[:128]
    if len(name) < 2:
        ctx.reply(ctx._("Please type your full name (as on your CCCD)."))
        return
    ctx.set_state(YEAR_STATE, slot=ctx.data.get("slot"), name=name)
    ctx.reply(ctx._("Your year of birth? (e.g. 1958)"))


@router.state(YEAR_STATE)
async def year_given(ctx: Context) -> None:
    this_year = ctx.now.astimezone(TIMEZONE).year
    text = ctx.inbound.text.strip()
    if not (text.isdigit() and this_year - OLDEST_AGE <= int(text) <= this_year):
        ctx.reply(ctx._("Please type a year of birth with 4 digits, e.g. 1958."))
        return
    ctx.update_data(year=int(text))
    ctx.set_state(PHONE_STATE, **ctx.data)
    ctx.reply(ctx._("A phone number the station can call you on?"))


@router.state(PHONE_STATE)
async def phone_given(ctx: Context) -> None:
    _ = ctx._
    phone = normalize_phone(ctx.inbound.text)
    if phone is None:
        ctx.reply(_("That does not look like a Vietnamese phone number. Please type it again, "
                    "e.g. 0912345678."))
        return
    data = ctx.data
    slot_id = int(data.get("slot") or 0)
    found = await slot_here(ctx, slot_id)
    ctx.clear_state()  # the draft (name, year) leaves the conversation state either way
    if found is None:
        ctx.reply(_("This session is no longer open."))
        await checkups_menu(ctx)
        return
    person = ctx.contact.person
    earlier = await checkups.active_booking(ctx.session, person.id, found.session_id)
    if earlier is not None:
        await show_booking(ctx, earlier.id)
        return
    booking = await checkups.book(
        ctx.session, slot_id=slot_id, person_id=person.id, full_name=str(data.get("name")),
        birth_year=int(data.get("year") or 0), phone=phone, area_code=person.area_code)
    if booking is None:
        rows = await slot_rows(ctx, found.session_id, "ck:t:")
        ctx.reply(_("Sorry, that time has just been fully booked. Please choose another time:")
                  if rows else _("Sorry, every time of this session is fully booked. Please call "
                                 "the station at {phone}.").format(phone=ctx.settings.station.phone),
                  rows + [[Button(_("Main menu"), "menu")]])
        return
    await _remind(ctx, booking.id, slot_id)
    ctx.reply(_("Booked. We will remind you the day before and on the morning."))
    await show_booking(ctx, booking.id)


async def _remind(ctx: Context, booking_id: int, slot_id: int) -> None:
    found = await checkups.slot(ctx.session, slot_id)
    row = await checkups.get_session(ctx.session, found.session_id) if found else None
    if found is None or row is None:
        return
    await queue_reminders(
        ctx.session, ctx.settings, booking_id=booking_id, slot_id=slot_id, slot_at=found.starts_at,
        row=row, channel=ctx.inbound.channel, chat_id=ctx.inbound.chat_id, locale=ctx.locale,
        now=ctx.now)


async def _own_booking(ctx: Context, booking_id: int) -> CheckupBooking | None:
    booking = await checkups.active_booking(ctx.session, ctx.contact.person.id)
    if booking is None or booking.id != booking_id:
        # Not the soonest: look the id up among the resident's own bookings only.
        booking = await ctx.session.get(CheckupBooking, booking_id)
        if booking is None or booking.person_id != ctx.contact.person.id \
                or booking.status != "booked":
            return None
    return booking


async def show_booking(ctx: Context, booking_id: int) -> None:
    _ = ctx._
    booking = await _own_booking(ctx, booking_id)
    if booking is None:
        await checkups_menu(ctx)
        return
    found = await checkups.slot(ctx.session, booking.slot_id)
    row = await checkups.get_session(ctx.session, booking.session_id)
    assert found is not None and row is not None
    ctx.reply(
        _("Your check-up: {time}, {date}").format(time=hhmm(found.starts_at),
                                                  date=local_date(found.starts_at, ctx.locale))
        + "\n" + describe(ctx.settings, row, ctx.locale),
        [[Button(_("Change the time"), f"ck:move:{booking.id}")],
         [Button(_("Cancel the booking"), f"ck:cancel:{booking.id}")],
         [Button(_("Main menu"), "menu")]],
    )


async def cancel_booking(ctx: Context, booking_id: int) -> None:
    _ = ctx._
    booking = await _own_booking(ctx, booking_id)
    if booking is None:
        await checkups_menu(ctx)
        return
    await checkups.cancel(ctx.session, booking)
    await cancel_reminders(ctx.session, booking.id)
    ctx.reply(_("Your booking is cancelled. You can book again any time with /khamsuckhoe."),
              [[Button(_("Main menu"), "menu")]])


async def offer_move(ctx: Context, booking_id: int) -> None:
    _ = ctx._
    booking = await _own_booking(ctx, booking_id)
    if booking is None:
        await checkups_menu(ctx)
        return
    rows = await slot_rows(ctx, booking.session_id, f"ck:mv:{booking.id}:", skip=booking.slot_id)
    if not rows:
        ctx.reply(_("There is no other free time in this session."),
                  [[Button(_("Main menu"), "menu")]])
        return
    ctx.reply(_("Choose the new time:"), rows + [[Button(_("Keep my time"), f"ck:b:{booking.id}")]])


async def move_booking(ctx: Context, booking_id: int, slot_id: int) -> None:
    _ = ctx._
    booking = await _own_booking(ctx, booking_id)
    if booking is None:
        await checkups_menu(ctx)
        return
    if not await checkups.move(ctx.session, booking, slot_id):
        ctx.reply(_("Sorry, that time has just been fully booked. Please choose another time:"))
        await offer_move(ctx, booking.id)
        return
    await cancel_reminders(ctx.session, booking.id)
    await _remind(ctx, booking.id, slot_id)
    ctx.reply(_("Done, your time is changed."))
    await show_booking(ctx, booking.id)
