"""Who may do what: ONE table, role -> permitted actions, checked in one place (the engine).

Commands, buttons and states declare the action they perform (`router.command(..., action=...)`,
`router.button(prefix, action=...)`, `router.state(name, action=...)`); before a handler runs the
engine calls `permit(ctx, action)`, which refuses a resident and a staff member whose role lacks
the action, with a clear message. `/help`, the staff menu, the Telegram command menus and the CLI
read the same table, so what a role sees is what it may do.

Decisions where the issue was silent: blocking a resident is the admin's alone (it silences a
person); an approver decides on broadcasts and may stop any broadcast, but neither handles tickets
nor composes; staff handle tickets, compose (urgent alerts too) and cancel only their own.
In the web console (issue 18) every role may sign in; residents' data requests (seeing and
erasing a resident's data) and the console's audit log are the admin's alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import StaffMember
    from bot.context import Context

log = logging.getLogger(__name__)


class Action(StrEnum):
    TICKET_HANDLE = "ticket.handle"  # accept, answer, transfer, close, mark duplicate
    TICKET_BLOCK = "ticket.block"  # block / unblock a ticket's sender
    TICKET_LIST = "ticket.list"  # open / mine / overdue lists, a ticket's card
    BROADCAST_COMPOSE = "broadcast.compose"
    BROADCAST_URGENT = "broadcast.urgent"
    BROADCAST_APPROVE = "broadcast.approve"
    BROADCAST_CANCEL_OWN = "broadcast.cancel_own"  # /huyphat: one's own broadcasts
    BROADCAST_CANCEL_ANY = "broadcast.cancel_any"  # ...and everyone else's
    REPORT_VIEW = "report.view"
    STAFF_MENU = "staff.menu"  # the staff menu and the staff part of /help
    CHECKUP_MANAGE = "checkup.manage"  # create check-up sessions (issue 20)
    CHECKUP_ATTEND = "checkup.attend"  # a session's list, mark who came (issue 20)
    CONSOLE_SIGN_IN = "console.sign_in"  # the web console (issue 18): sign in, the home page
    DATA_REQUEST = "data.request"  # console: see and erase a resident's data on request
    AUDIT_VIEW = "audit.view"  # console: read the console's audit log
    BROADCAST_VIEW = "broadcast.view"  # console: the campaign calendar, broadcasts and figures


ROLES = ("admin", "approver", "staff")

PERMISSIONS: dict[str, frozenset[Action]] = {
    "admin": frozenset(Action),
    "staff": frozenset({
        Action.TICKET_HANDLE, Action.TICKET_LIST, Action.BROADCAST_COMPOSE,
        Action.BROADCAST_URGENT, Action.BROADCAST_CANCEL_OWN, Action.REPORT_VIEW,
        Action.STAFF_MENU, Action.CHECKUP_MANAGE, Action.CHECKUP_ATTEND, Action.CONSOLE_SIGN_IN,
        Action.BROADCAST_VIEW,
    }),
    "approver": frozenset({
        Action.TICKET_LIST, Action.BROADCAST_APPROVE, Action.BROADCAST_CANCEL_OWN,
        Action.BROADCAST_CANCEL_ANY,
        Action.REPORT_VIEW, Action.STAFF_MENU, Action.CONSOLE_SIGN_IN, Action.BROADCAST_VIEW,
    }),
}

# Rules that need the button's argument to name the action (e.g. "tk:block:7" vs "tk:acc:7").
ActionRule = Action | Callable[[str], Action | None] | None


def allows(role: str | None, action: Action | str) -> bool:
    """True when `role` may perform `action` (None: not staff at all, never allowed)."""
    return role is not None and Action(action) in PERMISSIONS.get(role, frozenset())


def member_allows(member: StaffMember | None, action: Action | str) -> bool:
    return member is not None and allows(member.role, action)


def resolve(rule: ActionRule, arg: str = "") -> Action | None:
    return rule(arg) if callable(rule) and not isinstance(rule, Action) else rule


def permit(ctx: Context, rule: ActionRule, arg: str = "", *, command: bool = False) -> bool:
    """The one check: True to go on; otherwise the refusal is already in `ctx.replies`."""
    action = resolve(rule, arg)
    if action is None:
        return True
    _ = ctx._
    member = ctx.staff_member()
    if member is None:
        log.warning("refused %s to a non-staff %s user", action.value, ctx.inbound.channel)
        ctx.clear_state()
        ctx.reply(_("Sorry, this command is only for the health station's staff.") if command
                  else _("Sorry, only the health station's staff can use this."))
        return False
    if not allows(member.role, action):
        log.warning("refused %s to a staff member with role %s", action.value, member.role)
        ctx.clear_state()
        ctx.reply(_("Sorry, your role ({role}) does not allow this. Please ask the admin.").format(
            role=role_name(ctx, member.role)))
        return False
    return True


def role_name(ctx: Context, role: str) -> str:
    _ = ctx._
    return {"admin": _("admin"), "approver": _("approver"), "staff": _("staff")}.get(role, role)


def _(text: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return text


# Staff commands as /help, the staff menu and Telegram's per-chat command menus show them.
STAFF_COMMANDS: tuple[tuple[str, Action | None, str], ...] = (
    ("canbo", Action.STAFF_MENU, _("Staff menu")),
    ("dangmo", Action.TICKET_LIST, _("Open feedback")),
    ("cuatoi", Action.TICKET_LIST, _("Feedback assigned to me")),
    ("quahan", Action.TICKET_LIST, _("Overdue feedback")),
    ("tiepnhan", Action.TICKET_HANDLE, _("Accept feedback: /tiepnhan <code>")),
    ("traloi", Action.TICKET_HANDLE, _("Answer: /traloi <code> <answer>")),
    ("chuyen", Action.TICKET_HANDLE, _("Move to another category: /chuyen <code>")),
    ("dong", Action.TICKET_HANDLE, _("Close: /dong <code>")),
    ("trung", Action.TICKET_HANDLE, _("Mark duplicate: /trung <code> <original>")),
    ("chan", Action.TICKET_BLOCK, _("Block a sender: /chan <code>")),
    ("bochan", Action.TICKET_BLOCK, _("Unblock a sender: /bochan <code>")),
    ("phat", Action.BROADCAST_COMPOSE, _("Send an announcement")),
    ("khancap", Action.BROADCAST_URGENT, _("Send an urgent alert")),
    ("huyphat", Action.BROADCAST_CANCEL_OWN, _("Cancel a broadcast")),
    ("baocao", Action.REPORT_VIEW, _("Today's figures")),
    ("taokham", Action.CHECKUP_MANAGE, _("New check-up session: /taokham (see the guide)")),
    ("dskham", Action.CHECKUP_ATTEND, _("Check-up list, mark who came: /dskham <session>")),
    ("suakham", Action.CHECKUP_MANAGE, _("Change or cancel a check-up session: /suakham")),
    ("toi", None, _("My id and role")),
)


def commands_for(role: str | None) -> list[tuple[str, str]]:
    """(command, untranslated description) a role may use, in menu order."""
    return [(name, text) for name, action, text in STAFF_COMMANDS
            if action is None or allows(role, action)]
