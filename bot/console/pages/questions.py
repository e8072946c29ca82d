"""The console's unanswered questions (issue 18, point 4): groups of similar questions no topic
answered, anonymised, with counts (bot.console.unanswered); a group is marked "add to the
library" (then downloadable as a draft library entry in YAML for the content maintainers) or
answered by staff (the answer reaches the residents who asked within the last 7 days, in their
private chat, if it is still reachable).

Roles: reading the questions and downloading the export is `TICKET_LIST` (what residents ask,
like the feedback lists); marking a group and answering residents is `TICKET_HANDLE`."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.console import unanswered as questions
from bot.console.registry import _, page
from bot.console.visit import redirect, visit
from bot.i18n import TIMEZONE
from bot.permissions import Action
from storage import unanswered
from storage.models import UnansweredQuestion

TABS = (unanswered.OPEN, unanswered.LIBRARY, unanswered.ANSWERED)


def _ids(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip().isdigit()][:1000]


def answerable(group: questions.Group, rows: dict[int, UnansweredQuestion], now: datetime
               ) -> int:
    """How many of the group's askers an answer could still reach (private, recent)."""
    return sum(1 for i in group.ids if (row := rows.get(i)) is not None
               and row.chat_kind == "private" and now - row.created_at <= questions.ANSWER_WINDOW)


@page("questions", action=Action.TICKET_LIST, nav=_("Unanswered questions"), order=35)
async def questions_page(request: web.Request) -> web.Response:
    current = visit(request)
    tab = request.query.get("tab", unanswered.OPEN)
    tab = tab if tab in TABS else unanswered.OPEN
    now = current.now()
    async with current.console.services.db.sessions() as session:
        rows = await unanswered.since(session, now - questions.LIST_WINDOW,
                                      stations=current.stations, statuses=(tab,))
    groups = questions.group_questions(rows)
    by_id = {r.id: r for r in rows}
    q = request.query
    outcome = None
    if "sent" in q:
        outcome = questions.AnswerOutcome(*(int(q.get(k, "0") or 0) for k in
                                            ("sent", "old", "unreachable")))
    return current.render(
        "questions.html", tab=tab, groups=groups, outcome=outcome,
        answerable={g.key: answerable(g, by_id, now) for g in groups},
        can_handle=current.allows(Action.TICKET_HANDLE),
        window_days=questions.ANSWER_WINDOW.days, list_days=questions.LIST_WINDOW.days,
        max_chars=questions.MAX_ANSWER_CHARS,
        error=q.get("error") == "text")


@page("questions/library", action=Action.TICKET_HANDLE, method="POST")
async def mark_for_library(request: web.Request) -> web.Response:
    current = visit(request)
    form = await request.post()
    async with current.console.services.db.sessions() as session, session.begin():
        rows = await questions.rows_of(session, _ids(str(form.get("ids", ""))), current.stations)
        if rows:
            await unanswered.mark(session, [r.id for r in rows], unanswered.LIBRARY,
                                  by=current.member.name, at=current.now())
    await current.audit("questions.library", rows[0].id if rows else None)
    return redirect("/console/questions?tab=library")


@page("questions/library.yaml", action=Action.TICKET_LIST)
async def library_export(request: web.Request) -> web.Response:
    current = visit(request)
    now = current.now()
    async with current.console.services.db.sessions() as session:
        rows = await unanswered.since(session, now - questions.LIST_WINDOW,
                                      stations=current.stations, statuses=(unanswered.LIBRARY,))
    groups = questions.group_questions(rows)
    wanted = request.query.get("group", "")
    if wanted.isdigit():
        groups = [g for g in groups if int(wanted) in g.ids]
    today = now.astimezone(TIMEZONE).date()
    body = questions.library_file(groups, today=today, station=current.settings.station.name)
    return web.Response(
        text=body or "# nothing marked for the library\n", content_type="application/x-yaml",
        charset="utf-8", headers={"Content-Disposition":
                                  f'attachment; filename="library-suggestions-{today:%Y%m%d}.yaml"'})


@page("questions/answer", action=Action.TICKET_HANDLE, method="POST")
async def answer_group(request: web.Request) -> web.Response:
    current = visit(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    if not text or len(text) > questions.MAX_ANSWER_CHARS:
        return redirect("/console/questions?error=text")
    services = current.console.services
    async with services.db.sessions() as session, session.begin():
        rows = await questions.rows_of(session, _ids(str(form.get("ids", ""))), current.stations)
        outcome = await questions.answer(session, rows, text,
                                         station_name=current.settings.station.name,
                                         by=current.member.name, now=current.now())
    dispatcher = services.extras.get("dispatcher")
    if dispatcher is not None and outcome.sent:
        dispatcher.wake()
    await current.audit("questions.answer", rows[0].id if rows else None)
    return redirect(f"/console/questions?sent={outcome.sent}&old={outcome.too_old}"
                    f"&unreachable={outcome.unreachable}")
