"""The station's web console (issue 18), served under /console/ by the bot's own web server.

Off by default; `[console] enabled = true` turns it on (bot.app.build_web_app mounts it).
Modules: `app` (the sub-application, headers, the guard), `auth` (sign-in by one-time code),
`security` (signed cookies, CSRF, hashes, the notice cookie), `limits` (sign-in limits shared
by every worker), `acting` (the stand-in Context for the chat's functions), `registry` (the
route table: each route declares its Action), `visit` (what a page handler gets), `pages/` (one
module per page), `templates/` (Jinja2, one file per page, all extending base.html),
`static/console.css`.

How to add a page (e.g. the campaign calendar):
1. Create bot/console/pages/calendar.py:

       from aiohttp import web
       from bot.console.registry import _, page
       from bot.console.visit import redirect, visit
       from bot.permissions import Action

       @page("calendar", action=Action.BROADCAST_COMPOSE, nav=_("Calendar"), order=30)
       async def calendar(request: web.Request) -> web.Response:
           current = visit(request)            # member, stations, locale, _, csrf, audit()
           ...                                 # read only current.stations' rows
           return current.render("calendar.html", items=items)

       @page("calendar/{item_id:\\d+}/approve", action=Action.BROADCAST_APPROVE, method="POST")
       async def approve(request: web.Request) -> web.Response:
           form = await request.post()         # CSRF already checked by the guard
           ...
           await visit(request).audit("broadcast.approve", item_id)  # else an automatic row
           return redirect("/console/calendar")

2. Nothing else to register: every module of bot/console/pages/ is imported at start-up, and
   its `@page(...)` line is the registration (route, Action, navigation label and position).
3. bot/console/templates/calendar.html: `{% extends "base.html" %}`, `{% block title %}`,
   `{% block content %}`; texts as `{{ _("English text") }}`; every form carries
   `<input type="hidden" name="csrf" value="{{ csrf }}">`.
4. Translations: your own bot/locale/{vi,en}/LC_MESSAGES/<name>.po (templates are extracted too,
   `python -m bot.locale.sync <name> bot/console/pages/calendar.py
   bot/console/templates/calendar.html`).
5. Tests: tests/console_helpers.py (a running console with fake Telegram, `signed_in(...)`).

The guard (bot.console.app) redirects a visitor without a session to the sign-in page, refuses a
role without the page's Action (403 page + audit row), refuses a POST without the CSRF token and
writes every POST to the audit log. The navigation shows only the pages the role may open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.engine import HealthBot


def mount_console(app: web.Application, bot: HealthBot) -> None:
    """Add /console/ to the web server (imported only when the console is enabled)."""
    from bot.console.app import Console

    Console(bot).mount(app)
