"""The console's audit log (admin): every sign-in and every console action, newest first."""

from __future__ import annotations

from aiohttp import web

from bot.console.registry import _, page
from bot.console.visit import visit
from bot.permissions import Action
from storage import console as store


@page("audit", action=Action.AUDIT_VIEW, nav=_("Audit log"), order=90)
async def audit_log(request: web.Request) -> web.Response:
    current = visit(request)
    async with current.console.services.db.sessions() as session:
        rows = await store.audit_rows(session, stations=current.stations)
    _ = current._
    labels = {"ok": _("allowed"), "refused": _("refused"), "failed": _("failed")}
    return current.render("audit.html", rows=rows, outcome_labels=labels)
