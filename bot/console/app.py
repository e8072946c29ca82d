"""The console's aiohttp sub-application: templates, security headers, the session, the guard.

`Console(bot).mount(app)` adds /console/ to the web server (bot.app.build_web_app does it when
`[console] enabled = true`). Every page of the registry is wrapped by `_guarded`: sign-in needed,
the page's Action needed (else 403 and an audit row), the CSRF token needed on every POST.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.channels.web import guard
from bot.console import limits, pages, security
from bot.console.registry import PAGES, Page
from bot.console.visit import VISIT, Visit, visit
from bot.engine import HealthBot
from bot.permissions import Action, allows
from storage import console as store

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class Console:
    """The console of one running bot (its settings, database, clock and signing keys)."""

    def __init__(self, bot: HealthBot) -> None:
        self.bot = bot
        self.services = bot.services
        self.settings = bot.services.settings
        self.keys = security.Keys(self.settings.web.cookie_secret)
        self.trusted = guard.trusted_networks(self.settings.web.trusted_proxies)
        # Wrong codes and code requests per member and per address, shared by every worker
        # (Redis when configured, else the database: bot.console.limits).
        self.redis = limits.connect(self.settings)
        self.limits = limits.Limits(bot.services, self.keys, self.redis)
        for module in pkgutil.iter_modules(pages.__path__):  # every bot/console/pages/*.py
            importlib.import_module(f"{pages.__name__}.{module.name}")
        self.pages: list[Page] = list(PAGES)
        bot.services.extras["console"] = self

    # -- mounting --

    def mount(self, app: web.Application) -> web.Application:
        sub = web.Application(middlewares=[self._middleware])
        aiohttp_jinja2.setup(sub, loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined)
        from bot.console import auth

        auth.add_routes(sub, self)
        for page in self.pages:
            sub.router.add_route(page.method, "/" + page.path, self._guarded(page),
                                 name=page.name)
        sub.router.add_static("/static/", STATIC, show_index=False)
        if self.redis is not None:
            sub.on_cleanup.append(self._close_redis)
        app.add_subapp("/console/", sub)
        app.router.add_get("/console", _to_console)
        return sub

    async def _close_redis(self, _app: web.Application) -> None:
        await self.redis.aclose()

    # -- every request --

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        request[VISIT] = await self._visit(request)
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = visit(request).render("error.html", status=404,
                                             message=visit(request)._("Page not found."))
        except web.HTTPMethodNotAllowed:
            response = visit(request).render("error.html", status=405,
                                             message=visit(request)._("Page not found."))
        except web.HTTPException as exc:
            _harden(exc)
            raise
        _harden(response)
        request[VISIT].keep_flash(response, secure=not self.settings.console.insecure_cookies)
        return response

    async def _visit(self, request: web.Request) -> Visit:
        lang = request.cookies.get(security.LANG_COOKIE)
        current = Visit(self, request, "en" if lang == "en" else "vi")
        token = self.keys.unsign(request.cookies.get(security.SESSION_COOKIE))
        if token is None:
            return current
        async with self.services.db.sessions() as session:
            row = await store.find_session(session, security.digest(token), self.services.clock())
        member = self.member_named(row.member) if row is not None else None
        if member is not None and allows(member.role, Action.CONSOLE_SIGN_IN):
            current.member, current.token = member, token
        return current

    def member_named(self, name: str) -> Any:
        return next((m for m in self.settings.staff if m.name == name), None)

    def client_address(self, request: web.Request) -> str:
        return guard.ClientInfo.of(request, self.trusted).address

    # -- the guard around every registered page --

    def _guarded(self, page: Page) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            current = visit(request)
            target = "/".join(request.match_info.values()) or None
            if current.member is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther(request.app.router["signin"].url_for())
                return current.render("error.html", status=403,
                                      message=current._("Please sign in again."))
            if not current.allows(page.action):
                await current.audit(page.name, target, outcome="refused")
                log.warning("console: refused %s to role %s", page.name, current.member.role)
                return forbidden(current)
            if request.method == "POST":
                form = await request.post()
                if not self.keys.csrf_ok(current.token, form.get("csrf")):
                    await current.audit(page.name, target, outcome="refused")
                    log.warning("console: a form without a valid CSRF token was refused")
                    return forbidden(current)
            response = await page.handler(request)
            if (request.method == "POST" or page.audit_reads) and not current.audited:
                await current.audit(page.name, target)
            return response

        return handle

    def navigation(self, current: Visit) -> list[dict[str, Any]]:
        """The pages this visitor may open, for the menu (none before sign-in)."""
        if current.member is None:
            return []
        shown = sorted((p for p in self.pages if p.nav and current.allows(p.action)),
                       key=lambda p: p.order)
        root = self._root(current)
        return [{"label": current._(str(p.nav)), "url": root + p.path,
                 "active": current.request.path == root + p.path
                 or (p.path and current.request.path.startswith(root + p.path + "/"))}
                for p in shown]

    @staticmethod
    def _root(current: Visit) -> str:
        return "/console/"


def forbidden(current: Visit) -> web.Response:
    return current.render("error.html", status=403,
                          message=current._("Your role does not allow this page."))


def _harden(response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")


async def _to_console(_request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/console/")
