"""Personal reminders: a child's next vaccine doses and a BHYT card about to expire (`/nhaclich`).

Both store personal data (a child's birth date, a card's expiry), so consent comes first and says
what the data is used for. Reminders are rows with a due time; `scheduler.reminders` sweeps them.
Dose dates come only from the routine schedule table (`content/data`), without its unverified
rows, and every message sends the family to the station to confirm.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select

from bot.context import Context
from bot.i18n import TIMEZONE, local_date
from bot.model import Button
from bot.router import Router
from content.vaccination import Dose, load_schedule
from storage.models import Child, Reminder

router = Router()
router.keyword(
    "nhaclich", "nhac lich", "nhac lich tiem", "lich tiem cua con", "reminder", "reminders"
)

CONSENT_STATE = "reminders.consent"
CHILD_NAME_STATE = "reminders.child_name"
CHILD_BIRTH_STATE = "reminders.child_birth"
BHYT_STATE = "reminders.bhyt_expiry"
REMIND_AT = time(8, 0)  # local morning, outside quiet hours
DOSE_LEAD_DAYS = 3
BHYT_LEAD_DAYS = (30, 7)
MAX_CHILD_AGE_YEARS = 12
DATE_INPUT = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")


def parse_local_date(text: str) -> date | None:
    """dd/mm/yyyy (also with '.' or '-') as residents type it; None when it is not a real date."""
    match = DATE_INPUT.match(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def morning_of(day: date) -> datetime:
    """08:00 in Vietnam on that day, as an aware datetime."""
    return datetime.combine(day, REMIND_AT, tzinfo=TIMEZONE)


def upcoming_doses(birth: date, today: date) -> list[tuple[date, list[Dose]]]:
    """Verified routine doses still ahead (or due today), grouped by due date."""
    by_day: dict[date, list[Dose]] = {}
    for dose in load_schedule():
        if dose.unverified:
            continue
        due = dose.due_date(birth)
        if due >= today:
            by_day.setdefault(due, []).append(dose)
    return sorted(by_day.items())


@router.command("nhaclich", "reminders", groups=False)
async def reminders_menu(ctx: Context) -> None:
    _ = ctx._
    ctx.reply(
        _("I can remind you of your child's vaccination days and of your BHYT card's expiry."),
        [
            [Button(_("Child vaccination reminders"), "rem:child")],
            [Button(_("BHYT card expiry reminder"), "rem:bhyt")],
            [Button(_("My reminders"), "rem:list")],
            [Button(_("Main menu"), "menu")],
        ],
    )


@router.button("rem")
async def reminder_button(ctx: Context) -> None:
    if ctx.inbound.chat_kind != "private":
        return
    if ctx.args == "list":
        await list_reminders(ctx)
    elif ctx.args == "clear":
        await clear_reminders(ctx)
    elif ctx.args in ("child", "bhyt"):
        if ctx.contact.person.consent_at is None:
            await ask_consent(ctx, ctx.args)
        else:
            await start_flow(ctx, ctx.args)
    elif ctx.args.startswith("consent:"):
        await consent_given(ctx, ctx.args.split(":", 1)[1])
    elif ctx.args.startswith("done:"):
        from bot.conversations.reminder_done import confirm_dose

        number = ctx.args.split(":", 1)[1]
        await confirm_dose(ctx, int(number) if number.isdigit() else 0)


async def ask_consent(ctx: Context, flow: str) -> None:
    _ = ctx._
    ctx.set_state(CONSENT_STATE, flow=flow)
    ctx.reply(
        _(
            "To send reminders, the station stores the date you give (and your child's nickname). "
            "It is used only for these reminders, is never shared, and you can delete it any time "
            "with /dulieu. Do you agree?"
        ),
        [[Button(_("I agree"), f"rem:consent:{flow}")], [Button(_("No, thanks"), "menu")]],
    )


async def consent_given(ctx: Context, flow: str) -> None:
    ctx.contact.person.consent_at = ctx.now
    await start_flow(ctx, flow if flow in ("child", "bhyt") else "child")


async def start_flow(ctx: Context, flow: str) -> None:
    _ = ctx._
    if flow == "child":
        ctx.set_state(CHILD_NAME_STATE)
        ctx.reply(_('What do you call your child? (a nickname is enough, e.g. "Bin")'))
    else:
        ctx.set_state(BHYT_STATE)
        ctx.reply(
            _(
                "When does your BHYT card expire? Please type the date as day/month/year, "
                "e.g. 31/12/2026."
            )
        )


@router.state(CONSENT_STATE)
async def consent_text(ctx: Context) -> None:
    await ask_consent(ctx, ctx.data.get("flow", "child"))


@router.state(CHILD_NAME_STATE)
async def child_name(ctx: Context) -> None:
    name = ctx.inbound.text.strip()[:40]
    if not name:
        await start_flow(ctx, "child")
        return
    ctx.set_state(CHILD_BIRTH_STATE, nickname=name)
    ctx.reply(
        ctx._("What is {name}'s date of birth? (day/month/year, e.g. 05/03/2026)").format(name=name)
    )


@router.state(CHILD_BIRTH_STATE)
async def child_birth(ctx: Context) -> None:
    _ = ctx._
    today = ctx.now.astimezone(TIMEZONE).date()
    birth = parse_local_date(ctx.inbound.text)
    if (
        birth is None
        or birth > today
        or birth < today.replace(year=today.year - MAX_CHILD_AGE_YEARS)
    ):
        ctx.reply(_("Please type a real date of birth as day/month/year, e.g. 05/03/2026."))
        return
    nickname = str(ctx.data.get("nickname") or "bé")
    person = ctx.contact.person
    child = Child(person_id=person.id, nickname=nickname, birth_date=birth.isoformat(),
                  station_id=ctx.station_id)
    ctx.session.add(child)
    await ctx.session.flush()
    plan = upcoming_doses(birth, today)
    for due, doses in plan:
        remind_on = max(due - timedelta(days=DOSE_LEAD_DAYS), today)
        ctx.session.add(
            Reminder(
                person_id=person.id,
                station_id=ctx.station_id,
                kind="vaccine",
                due_at=morning_of(remind_on),
                payload={"child": nickname, "due": due.isoformat(), "doses": [d.id for d in doses]},
                dedupe_key=f"vaccine:{child.id}:{due.isoformat()}",
            )
        )
    ctx.clear_state()
    lines = [_("Saved. Upcoming routine vaccinations for {name}:").format(name=nickname)]
    for due, doses in plan[:4]:
        names = ", ".join(d.vaccine(ctx.locale) for d in doses)
        lines.append(f"• {local_date(due, ctx.locale)}: {names}")
    if not plan:
        lines.append(_("No more routine doses in the table for this age."))
    lines.append(
        _(
            "I will remind you {days} days before each date. The exact schedule follows the "
            "health station's guidance: bring the vaccination book and ask the station to confirm."
        ).format(days=DOSE_LEAD_DAYS)
    )
    ctx.reply(
        "\n".join(lines),
        [[Button(_("My reminders"), "rem:list")], [Button(_("Main menu"), "menu")]],
        source=_(
            "Source: Ministry of Health – Circulars 10/2024/TT-BYT and 52/2025/TT-BYT "
            "(routine immunisation schedule)"
        ),
    )


@router.state(BHYT_STATE)
async def bhyt_expiry(ctx: Context) -> None:
    _ = ctx._
    today = ctx.now.astimezone(TIMEZONE).date()
    expiry = parse_local_date(ctx.inbound.text)
    if expiry is None or expiry < today or expiry > today.replace(year=today.year + 6):
        ctx.reply(
            _("Please type the expiry date printed on the card as day/month/year, e.g. 31/12/2026.")
        )
        return
    person = ctx.contact.person
    await ctx.session.execute(
        delete(Reminder).where(Reminder.person_id == person.id, Reminder.kind == "bhyt")
    )
    for lead in BHYT_LEAD_DAYS:
        remind_on = expiry - timedelta(days=lead)
        if remind_on < today:
            continue
        ctx.session.add(
            Reminder(
                person_id=person.id,
                station_id=ctx.station_id,
                kind="bhyt",
                due_at=morning_of(remind_on),
                payload={"expiry": expiry.isoformat()},
                dedupe_key=f"bhyt:{person.id}:{expiry.isoformat()}:{lead}",
            )
        )
    ctx.clear_state()
    ctx.reply(
        _("Saved. I will remind you before your BHYT card expires on {date}.").format(
            date=local_date(expiry, ctx.locale)
        ),
        [[Button(_("How to renew"), "e:bhyt.renewal")], [Button(_("Main menu"), "menu")]],
    )


async def list_reminders(ctx: Context) -> None:
    _ = ctx._
    rows = (
        (
            await ctx.session.execute(
                select(Reminder)
                .where(Reminder.person_id == ctx.contact.person.id, Reminder.sent_at.is_(None))
                .order_by(Reminder.due_at)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        ctx.reply(_("You have no reminders."), [[Button(_("Set a reminder"), "cmd:nhaclich")]])
        return
    lines = [_("Your reminders:")]
    for row in rows[:10]:
        what = (
            _("vaccination of {name}").format(name=row.payload.get("child", ""))
            if row.kind == "vaccine"
            else _("BHYT card expiry")
        )
        lines.append(f"• {local_date(row.due_at, ctx.locale)}: {what}")
    ctx.reply(
        "\n".join(lines),
        [[Button(_("Delete all reminders"), "rem:clear")], [Button(_("Main menu"), "menu")]],
    )


async def clear_reminders(ctx: Context) -> None:
    person_id = ctx.contact.person.id
    await ctx.session.execute(delete(Reminder).where(Reminder.person_id == person_id))
    await ctx.session.execute(delete(Child).where(Child.person_id == person_id))
    ctx.reply(
        ctx._("All your reminders and your children's dates have been deleted."),
        [[Button(ctx._("Main menu"), "menu")]],
    )
