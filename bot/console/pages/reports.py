"""The console's report pages (issue 18, point 5): the periodic report's summary, tables and
charts (bot.report via bot.console.report_data), and its DOCX / XLSX downloads. A station's
staff see their station; province staff the aggregate of every station, or one they pick."""

from __future__ import annotations

from aiohttp import web

from bot.console import report_data
from bot.console.calendar_data import fired_plan
from bot.console.registry import _, page
from bot.console.visit import Visit, visit
from bot.i18n import TIMEZONE
from bot.permissions import Action
from bot.report.content import cell_text
from bot.report.figures import Period, current_half, parse_period
from bot.stations import settings_for


def _periods(today_year: int, half: Period) -> list[str]:
    """The choices: this half-year, the one before, this year, last year."""
    before = parse_period(f"{half.start.year - 1}-H2") if half.kind == "H1" else \
        parse_period(f"{half.start.year}-H1")
    return [half.slug, before.slug, str(today_year), str(today_year - 1)]


def _choose(current: Visit, request: web.Request) -> tuple[Period, int | None]:
    today = current.now().astimezone(TIMEZONE).date()
    try:
        period = parse_period(request.query.get("period", ""))
    except ValueError:
        period = current_half(today)
    assert current.member is not None  # the guard let only a signed-in member in
    station = report_data.station_choice(current.member, current.settings,
                                         request.query.get("station"))
    return period, station


@page("reports", action=Action.REPORT_VIEW, nav=_("Reports"), order=40)
async def report_page(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    period, station = _choose(current, request)
    async with services.db.sessions() as session:
        shown = await report_data.report_view(
            session, current.settings, period, station_id=station, locale=current.locale,
            library=services.library, plan=fired_plan(services))
    today = current.now().astimezone(TIMEZONE).date()
    stations = [(s, settings_for(current.settings, s).station.name)
                for s in report_data.station_options(current.member, current.settings)]
    return current.render(
        "report.html", view=shown, content=shown.content, period=period,
        periods=_periods(today.year, current_half(today)), chosen=station, stations=stations,
        province=current.member.province,
        cell=lambda value, kind: cell_text(value, kind, current.locale))


@page("reports/{fmt:(docx|xlsx)}", action=Action.REPORT_VIEW)
async def report_download(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    fmt = request.match_info["fmt"]
    period, station = _choose(current, request)
    async with services.db.sessions() as session:
        name, body = await report_data.report_file(
            session, current.settings, period, fmt, station_id=station, locale=current.locale,
            library=services.library, plan=fired_plan(services),
            issued_on=current.now().astimezone(TIMEZONE).date())
    await current.audit("reports.file", period.slug)
    return web.Response(body=body, content_type=report_data.MEDIA_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
