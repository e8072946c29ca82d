"""The console's home page: who is signed in, which stations, and the pages their role opens."""

from __future__ import annotations

from aiohttp import web

from bot.console.registry import _, page
from bot.console.visit import visit
from bot.permissions import Action
from bot.stations import settings_for


@page("", action=Action.CONSOLE_SIGN_IN, nav=_("Home"), order=0)
async def home(request: web.Request) -> web.Response:
    current = visit(request)
    stations = [settings_for(current.settings, s).station.name for s in current.stations]
    _ = current._
    roles = {"admin": _("admin"), "approver": _("approver"), "staff": _("staff")}
    role = current.member.role if current.member else ""
    return current.render("home.html", stations=stations, role_label=roles.get(role, role))
