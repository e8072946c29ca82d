"""Staff tools on the phone: the staff menu, ticket lists, today's figures and `/toi`.

`/canbo` shows the buttons the member's role may use (Phát tin · Tin khẩn · Phản ánh đang mở ·
Của tôi · Quá hạn · Báo cáo · Hướng dẫn). `/dangmo`, `/cuatoi`, `/quahan` list tickets five at a
time with buttons that open a ticket's card and buttons for the next page. `/toi` works for
anyone: it shows one's own id on this channel and role, so an admin can add a colleague.
Every action is checked against `bot.permissions` by the engine before a handler here runs.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.conversations.report_files import report_buttons, send_report_files
from bot.feedback import notices
from bot.feedback.categories import category, category_name
from bot.feedback.reports import satisfaction
from bot.i18n import TIMEZONE, local_date
from bot.model import Button, Outbound
from bot.permissions import Action, allows, commands_for, member_allows, role_name
from bot.router import Router
from bot.stations import member_scope, visible
from storage import tickets
from storage.models import Ticket

router = Router()
router.keyword("canbo", "can bo", "menu can bo", "staff menu")
router.keyword("toi", "id cua toi", "my id")

PAGE_SIZE = 5
LISTS = ("open", "mine", "overdue")
ID_FIELDS = {"telegram": "telegram_id", "zalo_bot": "zalo_bot_id", "zalo_oa": "zalo_oa_id",
             "web": "web_id"}


def staff_menu_buttons(ctx: Context) -> list[list[Button]]:
    """The staff menu rows the member's role may use."""
    _ = ctx._
    member = ctx.staff_member()
    role = member.role if member else None
    rows = [
        (Action.BROADCAST_COMPOSE, Button(_("Send an announcement"), "cmd:phat")),
        (Action.BROADCAST_URGENT, Button("🚨 " + _("Urgent alert"), "cmd:khancap")),
        (Action.TICKET_LIST, Button(_("Open feedback"), "tl:open:0")),
        (Action.TICKET_LIST, Button(_("Assigned to me"), "tl:mine:0")),
        (Action.TICKET_LIST, Button(_("Overdue"), "tl:overdue:0")),
        (Action.REPORT_VIEW, Button(_("Today's figures"), "cmd:baocao")),
        (Action.BROADCAST_CANCEL_OWN, Button(_("Cancel a broadcast"), "cmd:huyphat")),
    ]
    found = [[button] for action, button in rows if allows(role, action)]
    found.append([Button(_("Guide"), "cmd:trogiup")])
    return found


@router.command("canbo", "staff", action=Action.STAFF_MENU)
async def staff_menu(ctx: Context) -> None:
    """The staff menu, filtered by role."""
    member = ctx.staff_member()
    assert member is not None  # the engine checked the permission
    ctx.reply(ctx._("Staff menu ({name}, {role}): please choose.").format(
        name=member.name, role=role_name(ctx, member.role)), staff_menu_buttons(ctx))


def staff_help_lines(ctx: Context) -> list[str]:
    """The staff part of /help: only the commands this member's role may use."""
    member = ctx.staff_member()
    if member is None:
        return []
    _ = ctx._
    lines = [_("Staff commands ({role}):").format(role=role_name(ctx, member.role))]
    lines += [f"/{name} – {_(text)}" for name, text in commands_for(member.role)]
    return lines


@router.command("toi", "myid", "whoami")
async def whoami(ctx: Context) -> None:
    """One's own id on this channel and role: what an admin puts in the staff list."""
    _ = ctx._
    inbound = ctx.inbound
    member = ctx.staff_member()
    lines = [_("Channel: {channel}").format(channel=inbound.channel),
             _("Your id: {id}").format(id=inbound.user_id)]
    if inbound.chat_kind == "group":
        lines.append(_("This group's id: {id}").format(id=inbound.chat_id))
    if member is not None:
        lines.append(_("You are staff: {name}, role {role}.").format(
            name=member.name, role=role_name(ctx, member.role)))
    else:
        field = ID_FIELDS.get(inbound.channel, "telegram_id")
        lines.append(_("You are not on the staff list. To be added, send this to the admin:"))
        lines.append(f'{field} = "{inbound.user_id}"')
    ctx.reply("\n".join(lines))


# -- ticket lists -------------------------------------------------------------------------------


async def _tickets(ctx: Context, kind: str) -> list[Ticket]:
    status = "overdue" if kind == "overdue" else "open"
    found = await tickets.list_tickets(ctx.session, status=status, now=ctx.now,
                                       stations=member_scope(ctx))
    if kind == "mine":
        member = ctx.staff_member()
        found = [t for t in found if member is not None and t.assignee == member.name[:64]]
    # Urgent first, then oldest first: what needs doing soonest is on the first page.
    return sorted(found, key=lambda t: (t.urgency != "urgent", t.created_at, t.id))


def _line(ctx: Context, ticket: Ticket) -> str:
    _ = ctx._
    cat = category(ctx.settings, ticket.category)
    marks = "🚨 " if ticket.urgency == "urgent" else ""
    if tickets.is_overdue(ticket, ctx.now):
        marks += "⏰ "
    who = ticket.assignee or _("not accepted yet")
    return (f"{marks}{ticket.code} · {category_name(cat, ctx.locale, ticket.category)} · "
            f"{local_date(ticket.created_at, ctx.locale)} · {who}")


async def show_list(ctx: Context, kind: str, page: int) -> None:
    _ = ctx._
    titles = {"open": _("Open feedback"), "mine": _("Feedback assigned to me"),
              "overdue": _("Overdue feedback")}
    found = await _tickets(ctx, kind)
    if not found:
        empty = {"open": _("There is no open feedback."),
                 "mine": _("No open feedback is assigned to you."),
                 "overdue": _("No feedback is overdue.")}
        ctx.reply(empty[kind], [[Button(_("Staff menu"), "cmd:canbo")]])
        return
    pages = (len(found) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = found[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    head = _("{title}: {count} (page {page}/{pages})").format(
        title=titles[kind], count=len(found), page=page + 1, pages=pages)
    lines = [head, ""] + [_line(ctx, t) for t in shown]
    rows = [[Button(_("Open {code}").format(code=t.code), f"tko:{t.id}")] for t in shown]
    paging = []
    if page > 0:
        paging.append(Button("◀ " + _("Previous"), f"tl:{kind}:{page - 1}"))
    if page < pages - 1:
        paging.append(Button(_("Next") + " ▶", f"tl:{kind}:{page + 1}"))
    if paging:
        rows.append(paging)
    ctx.reply("\n".join(lines), rows)


@router.command("dangmo", "opentickets", action=Action.TICKET_LIST)
async def open_list(ctx: Context) -> None:
    await show_list(ctx, "open", 0)


@router.command("cuatoi", "mine", action=Action.TICKET_LIST)
async def my_list(ctx: Context) -> None:
    await show_list(ctx, "mine", 0)


@router.command("quahan", "overdue", action=Action.TICKET_LIST)
async def overdue_list(ctx: Context) -> None:
    await show_list(ctx, "overdue", 0)


@router.button("tl", action=Action.TICKET_LIST)
async def list_page(ctx: Context) -> None:
    kind, _sep, page = ctx.args.partition(":")
    await show_list(ctx, kind if kind in LISTS else "open", int(page) if page.isdigit() else 0)


@router.button("tko", action=Action.TICKET_LIST)
async def open_card(ctx: Context) -> None:
    """A ticket's card, with the handling buttons only for a role that may handle tickets."""
    ticket = await tickets.ticket_by_id(ctx.session, int(ctx.args)) if ctx.args.isdigit() else None
    ticket = visible(ctx, ticket)
    if ticket is None:
        ctx.reply(ctx._("That feedback no longer exists."))
        return
    card = await notices.staff_card(ctx.services, ctx.session, ticket, ctx.now)
    _ = ctx._
    status = {"new": _("new"), "accepted": _("accepted"), "answered": _("answered"),
              "closed": _("closed"), "duplicate": _("duplicate")}.get(ticket.status, ticket.status)
    text = card.text + "\n\n" + _("Status: {status}").format(status=status)
    # Buttons even where the channel has none: the engine turns them into a numbered menu.
    buttons = notices.staff_buttons(ticket, _)
    if not member_allows(ctx.staff_member(), Action.TICKET_HANDLE):
        buttons = ()
    if ticket.status in tickets.CLOSED_STATUSES:
        buttons = ()
    ctx.replies.append(Outbound(text=text, buttons=buttons))


# -- today's figures ----------------------------------------------------------------------------


@router.command("baocao", "report", action=Action.REPORT_VIEW)
async def figures(ctx: Context) -> None:
    """Open / overdue now, filed today, and this month's satisfaction; `/baocao 2026-H1` sends the
    period's report files (bot/conversations/report_files.py)."""
    _ = ctx._
    if ctx.args:
        await send_report_files(ctx, ctx.args)
        return
    today = ctx.now.astimezone(TIMEZONE).date()
    scope = member_scope(ctx)
    open_ = await tickets.list_tickets(ctx.session, status="open", now=ctx.now, stations=scope)
    overdue = [t for t in open_ if tickets.is_overdue(t, ctx.now)]
    month_start = today.replace(day=1)
    rated = await satisfaction(ctx.session, month_start, today + timedelta(days=1))
    filed_today = sum(1 for t in await tickets.list_tickets(ctx.session, now=ctx.now,
                                                            stations=scope)
                      if t.created_at.astimezone(TIMEZONE).date() == today)
    lines = [
        _("Figures on {day}:").format(day=local_date(today, ctx.locale)),
        _("Open feedback: {count}").format(count=len(open_)),
        _("Overdue: {count}").format(count=len(overdue)),
        _("Filed today: {count}").format(count=filed_today),
    ]
    if rated.ratings:
        lines.append(_("Satisfied this month: {satisfied} of {ratings} ratings").format(
            satisfied=rated.satisfied, ratings=rated.ratings))
    else:
        lines.append(_("No ratings yet this month."))
    ctx.reply("\n".join(lines), ([[Button(_("Overdue"), "tl:overdue:0")]] if overdue else [])
              + report_buttons(ctx))


