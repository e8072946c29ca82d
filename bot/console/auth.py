"""Signing in without a password: a staff handle, then a one-time code sent to the member's chat.

1. GET/POST /console/signin: the handle. Known or not, the answer is the same page ("if this
   name belongs to a staff member, a code was sent"), so names cannot be guessed from it.
2. The code (6 digits, `console.code_minutes`, single use, stored as a keyed hash) goes through
   the outbox to the member's own chat: Telegram, else Zalo (Bot, OA), else the web chat.
3. GET/POST /console/signin/code: the code. Wrong codes are limited per member and per address;
   five wrong guesses spend a code, and a member who reaches their limit has every pending code
   spent (bot.console.limits: the counts are shared by every worker). Success starts a
   server-side session (bot.console.security).
Every request for a code and every sign-in, good or bad, is written to the audit log.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import StaffMember
from bot.console import limits, security
from bot.console.acting import member_chat
from bot.console.visit import Visit, redirect, visit
from bot.i18n import gettext_for, normalize_locale
from bot.model import Outbound
from bot.permissions import Action, allows
from storage import console as store

if TYPE_CHECKING:
    from bot.console.app import Console

log = logging.getLogger(__name__)


def add_routes(sub: web.Application, console: Console) -> None:
    views = SignIn(console)
    sub.router.add_get("/signin", views.handle_form, name="signin")
    sub.router.add_post("/signin", views.request_code)
    sub.router.add_get("/signin/code", views.code_form, name="signin_code")
    sub.router.add_post("/signin/code", views.check_code)
    sub.router.add_post("/signout", views.sign_out, name="signout")
    sub.router.add_get("/lang/{lang:(vi|en)}", views.language, name="lang")


def find_member(console: Console, typed: str) -> StaffMember | None:
    """The staff member whose handle or full name this is (case and spacing ignored)."""
    wanted = " ".join(typed.split()).casefold()
    if not wanted:
        return None
    for member in console.settings.staff:
        if wanted in (member.handle, " ".join(member.name.split()).casefold()):
            return member
    return None


class SignIn:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.cfg = console.settings.console

    # -- the flow cookie (before a session): ties the code to this browser, gives the CSRF --

    def _flow(self, request: web.Request) -> str | None:
        return self.console.keys.unsign(request.cookies.get(security.FLOW_COOKIE))

    def _set_cookie(self, response: web.StreamResponse, name: str, value: str,
                    max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=security.COOKIE_PATH,
                            httponly=True, samesite="Strict",
                            secure=not self.cfg.insecure_cookies)

    def _form(self, current: Visit, template: str, *, status: int = 200,
              error: str = "") -> web.Response:
        flow = self._flow(current.request) or security.new_token()
        current.token = flow
        response = current.render(template, status=status, error=error)
        self._set_cookie(response, security.FLOW_COOKIE, self.console.keys.sign(flow),
                         security.FLOW_SECONDS)
        return response

    def _csrf_ok(self, request: web.Request, form: dict) -> str | None:
        flow = self._flow(request)
        if flow is None or not self.console.keys.csrf_ok(flow, form.get("csrf")):
            return None
        return flow

    async def handle_form(self, request: web.Request) -> web.StreamResponse:
        current = visit(request)
        if current.member is not None:
            raise web.HTTPSeeOther("/console/")
        return self._form(current, "signin.html")

    async def _posted(self, request: web.Request) -> tuple[Visit, dict, str | None]:
        """(visit, form, flow) of a sign-in form; flow None: no valid CSRF token (refuse)."""
        form = dict(await request.post())
        return visit(request), form, self._csrf_ok(request, form)

    def _expired(self, current: Visit) -> web.Response:
        return self._form(current, "signin.html", status=403,
                          error=current._("The form has expired. Please try again."))

    async def request_code(self, request: web.Request) -> web.StreamResponse:
        current, form, flow = await self._posted(request)
        if flow is None:
            return self._expired(current)
        member = find_member(self.console, str(form.get("handle", ""))[:128])
        address = self.console.client_address(request)
        rules = self.console.limits
        if await rules.take(limits.CODE_ADDRESS, address) is None:
            return self._too_many(current, "signin.html")
        if member is not None and await rules.take(limits.CODE_MEMBER, member.name):
            await self._send_code(current, member, flow)
        else:
            await current.audit("signin.code", outcome="failed")
        raise web.HTTPSeeOther(request.app.router["signin_code"].url_for())

    async def _send_code(self, current: Visit, member: StaffMember, flow: str) -> None:
        services = self.console.services
        now = services.clock()
        station_id = member.stations[0] if member.stations else 1
        chat = member_chat(member)
        allowed = allows(member.role, Action.CONSOLE_SIGN_IN)
        async with services.db.sessions() as session, session.begin():
            await store.forget_old(session, now)
            if chat is not None and allowed and services.deliverer is not None:
                code = security.new_code()
                row = await store.new_code(
                    session, flow_hash=security.digest(flow), member=member.name,
                    code_hash=self.console.keys.code_hash(flow, code), station_id=station_id,
                    now=now, lifetime=timedelta(minutes=self.cfg.code_minutes))
                _ = gettext_for(normalize_locale(self.console.settings.station.default_language))
                text = _("Your sign-in code for the station's web console: {code}\nIt expires in "
                         "{minutes} minutes. If you did not ask for it, ignore this message and "
                         "tell the station's admin.").format(code=code,
                                                             minutes=self.cfg.code_minutes)
                await services.deliverer.enqueue(
                    session, channel=chat[0], chat_id=chat[1], message=Outbound(text=text),
                    dedupe_key=store.message_key(row))
                outcome = "ok"
            else:
                outcome = "failed"
            await store.audit(session, actor=member.name, action="signin.code", outcome=outcome,
                              station_id=station_id, now=now)
        current.audited = True
        wake = services.extras.get("dispatcher")
        if wake is not None:
            wake.wake()

    def _too_many(self, current: Visit, template: str) -> web.Response:
        return self._form(current, template, status=429, error=current._(
            "Too many attempts. Please wait 15 minutes and try again."))

    async def code_form(self, request: web.Request) -> web.StreamResponse:
        current = visit(request)
        if self._flow(request) is None:
            raise web.HTTPSeeOther(request.app.router["signin"].url_for())
        return self._form(current, "code.html")

    async def check_code(self, request: web.Request) -> web.StreamResponse:
        current, form, flow = await self._posted(request)
        if flow is None:
            return self._expired(current)
        console, services = self.console, self.console.services
        typed = "".join(str(form.get("code", "")).split())[:12]
        now = services.clock()
        async with services.db.sessions() as session:
            row = await store.live_code(session, security.digest(flow), now)
            name = row.member if row is not None else await store.code_owner(
                session, security.digest(flow))
        # A wrong-code slot per address and per member is taken before the code is compared
        # (given back if it was right), so no worker and no parallel request gets past 5 / 20.
        address = console.client_address(request)
        by_address = await console.limits.take(limits.FAIL_ADDRESS, address)
        by_member = await console.limits.take(limits.FAIL_MEMBER, name) if name else None
        if by_address is None or (name and by_member is None):
            await console.limits.give_back(by_address)
            await console.limits.give_back(by_member)
            async with services.db.sessions() as session, session.begin():
                if name:  # locked: the member's pending codes are spent too
                    await store.spend_codes(session, name, now)
                await store.audit(session, actor=name, action="signin", outcome="refused", now=now)
            log.warning("console: sign-in refused, too many wrong codes (%s)",
                        "address" if by_address is None else "member")
            return self._too_many(current, "code.html")
        async with services.db.sessions() as session, session.begin():
            row = await store.live_code(session, security.digest(flow), now)
            member = console.member_named(name) if row is not None else None
            good = (row is not None and member is not None and typed.isdigit()
                    and await store.count_guess(session, row)
                    and self._matches(flow, typed, row))
            if not good:
                if by_member is not None and by_member.last:
                    await store.spend_codes(session, name, now)
                await store.audit(session, actor=name, action="signin", outcome="failed", now=now)
            else:
                row.used_at = now
                await store.scrub_code_messages(session, [row])
                token = security.new_token()
                await store.start_session(
                    session, token_hash=security.digest(token), member=member.name,
                    station_id=row.station_id, now=now,
                    lifetime=timedelta(hours=self.cfg.session_hours))
                await store.audit(session, actor=member.name, action="signin", now=now,
                                  station_id=row.station_id)
        if not good:
            return self._form(current, "code.html", status=401, error=current._(
                "That code is wrong or has expired. Check the latest message from the bot, or "
                "ask for a new code."))
        await console.limits.give_back(by_address)
        await console.limits.give_back(by_member)
        response = redirect("/console/")
        self._set_cookie(response, security.SESSION_COOKIE, console.keys.sign(token),
                         self.cfg.session_hours * 3600)
        response.del_cookie(security.FLOW_COOKIE, path=security.COOKIE_PATH)
        return response

    def _matches(self, flow: str, typed: str, row: store.ConsoleCode) -> bool:
        import hmac

        return hmac.compare_digest(self.console.keys.code_hash(flow, typed), row.code_hash)

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        current = visit(request)
        form = dict(await request.post())
        if current.member is None:
            raise web.HTTPSeeOther(request.app.router["signin"].url_for())
        if not self.console.keys.csrf_ok(current.token, form.get("csrf")):
            await current.audit("signout", outcome="refused")
            return current.render("error.html", status=403, message=current._(
                "The form has expired. Please try again."))
        async with self.console.services.db.sessions() as session, session.begin():
            await store.end_session(session, security.digest(current.token),
                                    self.console.services.clock())
        await current.audit("signout")
        response = redirect("/console/signin")
        response.del_cookie(security.SESSION_COOKIE, path=security.COOKIE_PATH)
        return response

    async def language(self, request: web.Request) -> web.StreamResponse:
        lang = request.match_info["lang"]
        back = "/console/" if visit(request).member else "/console/signin"
        response = redirect(back)
        response.set_cookie(security.LANG_COOKIE, lang, max_age=365 * 24 * 3600,
                            path=security.COOKIE_PATH, httponly=True, samesite="Strict",
                            secure=not self.cfg.insecure_cookies)
        return response
