"""Free yearly check-ups, the staff's side: `/taokham` creates a session (and queues the
invitations), `/dskham` shows a session's list and marks who came.

`/taokham 15/12/2026 07:30-11:00; Nhà văn hoá TDP1; TDP1,TDP2; 10; Người cao tuổi; CCCD/VNeID,
thẻ BHYT; nhịn ăn` — date and time window; place; areas (`*` for all); places per 30-minute slot;
then optionally priority groups, what to bring, and "nhịn ăn"/"fasting". The lists carry residents'
names, so those exchanges are not written to the message log (`ctx.forget_exchange`).
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.checkups.messages import describe, hhmm, queue_invitations
from bot.context import Context
from bot.conversations.reminders import parse_local_date
from bot.conversations.survey import invite_after_visit
from bot.feedback.phone import masked
from bot.i18n import TIMEZONE, local_date
from bot.model import Button
from bot.permissions import Action
from bot.router import Router
from bot.stations import may_act_on
from content.normalize import normalize
from storage import checkups
from storage.models import CheckupBooking

router = Router()

WINDOW = re.compile(r"^\s*(\S+)\s+(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})\s*$")
SLOT_MINUTES = 30
FASTING_WORDS = {"nhin an", "nhin doi", "fasting", "co", "yes"}
ALL_AREAS = {"*", "tat ca", "all"}


def parse_window(text: str) -> tuple[datetime, datetime] | None:
    """`15/12/2026 07:30-11:00` as (start, end), local time; None when it is not right."""
    window = WINDOW.match(text)
    day = parse_local_date(window.group(1)) if window else None
    if window is None or day is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in window.groups()[1:])
    try:
        starts = datetime(day.year, day.month, day.day, h1, m1, tzinfo=TIMEZONE)
        ends = datetime(day.year, day.month, day.day, h2, m2, tzinfo=TIMEZONE)
    except ValueError:
        return None
    return (starts, ends) if ends > starts else None


def parse_session(text: str, known_areas: set[str]) -> dict[str, object] | str:
    """The fields of `/taokham`, or the name of the first field that is wrong."""
    parts = [p.strip() for p in re.split(r"[;|]", text)]
    if len(parts) < 4:
        return "format"
    window = parse_window(parts[0])
    if window is None:
        return "when"
    starts, ends = window
    if not parts[1]:
        return "place"
    if parts[2].strip() == "*" or normalize(parts[2]) in ALL_AREAS:
        areas: list[str] = []
    else:
        areas = [a.strip().upper() for a in parts[2].split(",") if a.strip()]
        if not areas or any(a not in known_areas for a in areas):
            return "areas"
    if not parts[3].isdigit() or not 1 <= int(parts[3]) <= 500:
        return "places"
    return {
        "starts_at": starts, "ends_at": ends, "place": parts[1][:255], "areas": areas,
        "per_slot": int(parts[3]),
        "priority_groups": parts[4][:255] if len(parts) > 4 else "",
        "bring": parts[5][:255] if len(parts) > 5 else "",
        "fasting": len(parts) > 6 and normalize(parts[6]) in FASTING_WORDS,
    }  # fmt: skip


@router.command("taokham", "newcheckup", action=Action.CHECKUP_MANAGE)
async def new_session(ctx: Context) -> None:
    _ = ctx._
    usage = _("Write it on one line, fields separated by ';':\n/taokham 15/12/2026 07:30-11:00; "
              "place; areas (TDP1,TDP2 or *); places per 30 minutes; priority groups; what to "
              "bring; fasting (nhịn ăn) or not")
    if not ctx.args:
        ctx.reply(usage)
        return
    known = {a.code.upper() for a in ctx.settings.areas}
    parsed = parse_session(ctx.args, known)
    if isinstance(parsed, str):
        problem = {
            "when": _("The date or time window is not right (e.g. 15/12/2026 07:30-11:00)."),
            "place": _("Please write the place."),
            "areas": _("Unknown area. The areas are: {codes}").format(codes=", ".join(sorted(known))),
            "places": _("Places per 30 minutes must be a number from 1 to 500."),
        }.get(parsed, "")
        ctx.reply((problem + "\n" if problem else "") + usage)
        return
    if parsed["starts_at"] <= ctx.now:  # type: ignore[operator]
        ctx.reply(_("The session must be in the future."))
        return
    if not parsed["bring"]:
        parsed["bring"] = _("CCCD or VNeID, BHYT card")
    member = ctx.staff_member()
    row = await checkups.create_session(
        ctx.session, slot_minutes=SLOT_MINUTES, created_by=member.name if member else None,
        station_id=ctx.station_id, **parsed)  # type: ignore[arg-type]
    invited = await queue_invitations(ctx.session, ctx.settings, row, ctx.now)
    slots = await checkups.slots(ctx.session, row.id)
    ctx.reply(
        _("Session {id} created: {slots} times, {places} places in all. Invitations queued: "
          "{invited} (sent outside quiet hours).").format(
            id=row.id, slots=len(slots), places=sum(s.capacity for s in slots), invited=invited)
        + "\n\n" + describe(ctx.settings, row, ctx.locale),
        [[Button(_("Session list"), f"ckst:l:{row.id}")]],
    )


def _staff_action(arg: str) -> Action | None:
    return Action.CHECKUP_ATTEND


@router.command("dskham", "checkups", action=Action.CHECKUP_ATTEND)
async def session_list(ctx: Context) -> None:
    arg = ctx.args.strip()
    if arg.isdigit():
        await show_list(ctx, int(arg))
        return
    if normalize(arg).split()[:1] in (["baophu"], ["coverage"]):
        year = arg.split()[-1]
        await show_coverage(ctx, int(year) if year.isdigit() else 0)
        return
    _ = ctx._
    sessions = await checkups.upcoming_sessions(ctx.session, ctx.now, station_id=ctx.station_id)
    coverage = [Button(_("Coverage this year"), "ckst:c:0")]
    if not sessions:
        ctx.reply(_("No check-up session is planned. Create one with /taokham."), [coverage])
        return
    ctx.reply(_("Check-up sessions:"), [
        [Button(f"#{s.id} {local_date(s.starts_at, ctx.locale)} {hhmm(s.starts_at)} · {s.place}"[:60],
                f"ckst:l:{s.id}")] for s in sessions[:10]] + [coverage])


async def show_coverage(ctx: Context, year: int) -> None:
    """Per area and per priority group over the year, for the member's station (`/dskham baophu
    2026`); province staff see every station."""
    from bot.checkups.coverage import coverage_text, year_coverage

    member = ctx.staff_member()
    year = year or ctx.now.astimezone(TIMEZONE).year
    station_id = None if member is not None and member.province else ctx.station_id
    cov = await year_coverage(ctx.session, year, station_id)
    ctx.reply(coverage_text(ctx.settings, cov, year, ctx.locale, station_id))


@router.button("ckst", action=_staff_action)
async def staff_button(ctx: Context) -> None:
    verb, _sep, rest = ctx.args.partition(":")
    number = int(rest) if rest.isdigit() else 0
    if verb == "a":
        await mark(ctx, number)
    elif verb == "c":
        await show_coverage(ctx, number)
    else:
        await show_list(ctx, number)


async def show_list(ctx: Context, session_id: int) -> None:
    _ = ctx._
    row = await checkups.get_session(ctx.session, session_id)
    if row is None or not may_act_on(ctx.staff_member(), row.station_id):  # another station's
        ctx.reply(_("There is no session {id}.").format(id=session_id))
        return
    ctx.forget_exchange = True  # residents' names and phones stay out of the message log
    bookings = await checkups.bookings_of(ctx.session, session_id)
    came = sum(1 for b, _at in bookings if b.status == "attended")
    lines = [_("Session {id}: {booked} booked, {came} came.").format(
        id=row.id, booked=len(bookings), came=came)]
    buttons = []
    for n, (b, at) in enumerate(bookings, 1):
        mark_text = "✅" if b.status == "attended" else "⬜"
        lines.append(f"{n}. {mark_text} {hhmm(at)} {b.full_name or '—'} ({b.birth_year or '—'}, "
                     f"{b.area_code or '—'}) {masked(b.phone) if b.phone else ''}".rstrip())
        if b.status != "attended":
            buttons.append(Button(_("Came: {n}").format(n=n), f"ckst:a:{b.id}"))
    ctx.reply("\n".join(lines), [buttons[i:i + 3] for i in range(0, len(buttons), 3)])


async def mark(ctx: Context, booking_id: int) -> None:
    _ = ctx._
    found = await ctx.session.get(CheckupBooking, booking_id)
    booking = (await checkups.mark_attended(ctx.session, booking_id, ctx.now)
               if found is not None and may_act_on(ctx.staff_member(), found.station_id) else None)
    if booking is None:
        ctx.reply(_("That booking is not on any list (cancelled or unknown)."))
        return
    if booking.person_id is not None:
        await invite_after_visit(ctx.session, ctx.settings, booking.person_id, ctx.now,
                                 key=f"checkup:{booking.id}")
    await show_list(ctx, booking.session_id)
