"""The console's broadcast composer (issue 18, point 3): the form, its preview (exact count, the
text per channel, the quiet-hours warning) and the submission through the chat's own flow
(bot.console.broadcast_compose): with approval on, the approvers get the chat's approval card."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console import broadcast_compose as compose
from bot.console.registry import page
from bot.console.visit import redirect, visit
from bot.permissions import Action


def _choices(current: Any) -> dict[str, Any]:
    services = current.console.services
    library = services.library
    member = current.member
    ctx_settings = compose.staff_context(services, None, member, current.locale).settings
    locale = current.locale
    return {
        "entries": [(t.title(locale), [(e.id, e.title(locale)) for e in library.entries()
                                       if e.topic_id == t.id and e.approved])
                    for t in library.topics.values()],
        "topics": [(t.id, t.title(locale)) for t in library.topics.values()],
        "areas": ctx_settings.areas,
        "can_urgent": current.allows(Action.BROADCAST_URGENT),
        "quiet_hours": ctx_settings.broadcast.quiet_hours.replace("-", "–"),
        "max_chars": compose.MAX_TEXT_CHARS,
    }


@page("broadcasts/new", action=Action.BROADCAST_COMPOSE)
async def new_broadcast(request: web.Request) -> web.Response:
    current = visit(request)
    return current.render("compose.html", form={}, errors=[], preview=None,
                          **_choices(current))


@page("broadcasts/new", action=Action.BROADCAST_COMPOSE, method="POST")
async def post_broadcast(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf"}
    draft = compose.read_form(form, services, current.member, current.locale, current.now())
    if draft.errors:
        return current.render("compose.html", status=400, form=form, errors=draft.errors,
                              preview=None, **_choices(current))
    async with services.db.sessions() as session, session.begin():
        ctx = compose.staff_context(services, session, current.member, current.locale,
                                    draft.data())
        if form.get("step") != "send":
            shown = await compose.preview(ctx, current.member)
            return current.render("compose.html", form=form, errors=[], preview=shown,
                                  **_choices(current))
        done = await compose.submit(ctx)
    if done.broadcast_id is None:  # refused by the chat's flow (no approver, time passed)
        return current.render("compose.html", status=400, form=form, errors=[done.message],
                              preview=None, **_choices(current))
    await current.audit("broadcast.compose", done.broadcast_id)
    return redirect(f"/console/broadcasts/{done.broadcast_id}")
