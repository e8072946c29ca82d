"""The console's one route table: every page and form declares the Action it needs.

`@page("tickets", action=Action.TICKET_LIST, nav=_("Feedback"))` registers a handler under
/console/tickets. The app (bot.console.app) wraps every registered handler: no session -> the
sign-in page; a role without the action -> the 403 page (and an audit row); a POST without the
right CSRF token -> 403. The navigation lists exactly the pages with `nav` the role may open, so
what a role sees is what it may use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.permissions import Action

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Page:
    path: str  # under /console/, aiohttp syntax: "tickets/{ticket_id:\d+}"
    handler: Handler
    action: Action
    method: str = "GET"
    nav: str | None = None  # the (untranslated) navigation label; None: not in the navigation
    order: int = 50  # position in the navigation
    audit_reads: bool = False  # also write a GET to the audit log (residents' data)

    @property
    def name(self) -> str:
        """The route name and the audit log's action: "tickets.view", "tickets.post"..."""
        base = self.path.split("/{", 1)[0].replace("/", ".") or "home"
        return f"{base}.{'view' if self.method == 'GET' else 'post'}" + (
            ".item" if "{" in self.path else "")


PAGES: list[Page] = []


def page(path: str, *, action: Action, method: str = "GET", nav: str | None = None,
         order: int = 50, audit_reads: bool = False) -> Callable[[Handler], Handler]:
    """Register a console route (see the module docstring)."""

    def register(handler: Handler) -> Handler:
        if any(p.path == path and p.method == method for p in PAGES):
            raise ValueError(f"console route {method} /console/{path} registered twice")
        PAGES.append(Page(path, handler, action, method, nav, order, audit_reads))
        return handler

    return register


def _(text: str) -> str:
    """Mark a navigation label for extraction; translated when the page is drawn."""
    return text
