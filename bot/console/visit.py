"""One request to the console as a page handler sees it: `visit(request)`.

A `Visit` knows the signed-in staff member (or None), the stations they see, the language, the
CSRF token for forms, and offers `render(template, **values)` and `audit(action, target)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import web

from bot.config import Settings, StaffMember
from bot.console.security import COOKIE_PATH, FLASH_COOKIE, FLASH_SECONDS
from bot.i18n import Gettext, gettext_for, local_date, local_datetime
from bot.permissions import Action, allows
from bot.stations import scope_of, station_ids
from storage import console as store

if TYPE_CHECKING:
    from bot.console.app import Console

def redirect(location: str) -> web.Response:
    """A 303 "see other" that can carry cookies (after a form: the browser GETs `location`)."""
    return web.Response(status=303, headers={"Location": location})


def visit(request: web.Request) -> Visit:
    """The Visit the console's middleware attached to this request."""
    return request[VISIT]


@dataclass
class Visit:
    console: Console
    request: web.Request
    locale: str
    member: StaffMember | None = None
    token: str = ""  # the session's (or, before sign-in, the flow's) cookie token
    audited: bool = False
    flash_out: str = ""  # a notice for the next page (set by `flash`)
    flash_shown: bool = False  # this response showed the notice it received
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def _(self) -> Gettext:  # noqa: N802 - the gettext convention
        return gettext_for(self.locale)

    @property
    def settings(self) -> Settings:
        return self.console.settings

    @property
    def csrf(self) -> str:
        return self.console.keys.csrf(self.token) if self.token else ""

    @property
    def stations(self) -> list[int]:
        """The stations this staff member sees (province staff: all); none when signed out."""
        return [] if self.member is None else scope_of(self.member, self.settings)

    @property
    def home_station(self) -> int:
        return self.stations[0] if self.stations else station_ids(self.settings)[0]

    def allows(self, action: Action) -> bool:
        return self.member is not None and allows(self.member.role, action)

    def now(self) -> Any:
        return self.console.services.clock()

    async def audit(self, action: str, target: str | int | None = None, *,
                    outcome: str = "ok", station_id: int | None = None) -> None:
        """Write one audit row in its own transaction (who, what, which record, when)."""
        self.audited = True
        async with self.console.services.db.sessions() as session, session.begin():
            await store.audit(session, actor=self.member.name if self.member else "",
                              action=action, target=target, outcome=outcome,
                              station_id=station_id or self.home_station, now=self.now())

    def flash(self, text: str) -> None:
        """A one-time notice shown on the next page this browser opens (after a redirect); it
        travels in a signed cookie (bot.console.security.Keys.seal_flash), so any worker shows
        it. The console's middleware sets the cookie on the response."""
        if self.token:
            self.flash_out = text

    @property
    def flash_in(self) -> str:
        """The notice a previous response left for this session ("" when none or stale)."""
        return self.console.keys.open_flash(
            self.token if self.member else "", self.request.cookies.get(FLASH_COOKIE),
            self.now().timestamp())

    def render(self, template: str, *, status: int = 200, **values: Any) -> web.Response:
        context = {
            "_": self._,
            "visit": self,
            "lang": self.locale,
            "csrf": self.csrf,
            "member": self.member,
            "nav": self.console.navigation(self),
            "station": self.settings.station,
            "date": lambda v: local_date(v, self.locale) if v else "",
            "datetime": lambda v: local_datetime(v, self.locale) if v else "",
            "path": self.request.path,
            "flash": self._take_flash(),
            **values,
        }
        return aiohttp_jinja2.render_template(template, self.request, context, status=status)


    def _take_flash(self) -> str:
        text = self.flash_in
        self.flash_shown = self.flash_shown or bool(text)
        return text

    def keep_flash(self, response: web.StreamResponse, secure: bool) -> None:
        """Set the flash cookie of a notice left by this request, or delete a shown one."""
        if self.flash_out and self.token:
            expires = self.now().timestamp() + FLASH_SECONDS
            response.set_cookie(FLASH_COOKIE, self.console.keys.seal_flash(
                self.token, self.flash_out, expires), max_age=FLASH_SECONDS, path=COOKIE_PATH,
                httponly=True, samesite="Strict", secure=secure)
        elif self.flash_shown:
            response.del_cookie(FLASH_COOKIE, path=COOKIE_PATH)


VISIT = web.RequestKey("console.visit", Visit)
