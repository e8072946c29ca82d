"""`/baocao 2026-H1` (or the buttons under `/baocao`): the period's report files sent to the staff
member as documents (issue 17). Role-checked by the engine (`Action.REPORT_VIEW`).

The files are aggregates only (no personal data) and are written to a temporary folder from which
the outbox sends them; Telegram receives them as documents. The Zalo channels take no documents
from a bot, so there the member gets the key figures and is told to fetch the files on Telegram or
with `healthbot report`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.context import Context
from bot.i18n import TIMEZONE
from bot.model import Button, Outbound
from bot.permissions import Action
from bot.report.content import percent
from bot.report.figures import Period, current_half, parse_period
from bot.router import Router

router = Router()
REPORT_DIR = Path(tempfile.gettempdir()) / "healthbot-reports"
DOCUMENT_CHANNELS = ("telegram",)


def report_buttons(ctx: Context) -> list[list[Button]]:
    """Buttons for the current half-year's and the current year's report files."""
    _ = ctx._
    today = ctx.now.astimezone(TIMEZONE).date()
    half = current_half(today)
    return [[Button(_("Report files: {period}").format(period=half.slug), f"rpf:{half.slug}")],
            [Button(_("Report files: {period}").format(period=today.year),
                    f"rpf:{today.year}")]]


@router.button("rpf", action=Action.REPORT_VIEW)
async def report_button(ctx: Context) -> None:
    await send_report_files(ctx, ctx.args)


async def send_report_files(ctx: Context, text: str) -> None:
    _ = ctx._
    try:
        period: Period = parse_period(text)
    except ValueError:
        ctx.reply(_("Please give a period such as 2026-H1, 2026-H2 or 2026."))
        return
    from bot.report.files import load_plan_quietly, make_report

    settings = ctx.settings
    documents = ctx.inbound.channel in DOCUMENT_CHANNELS
    folder = REPORT_DIR / f"{ctx.inbound.channel}-{ctx.inbound.chat_id}"
    member = ctx.staff_member()  # province staff get the province's figures, others their station's
    station_id = None if member is not None and member.province else ctx.station_id
    files = await make_report(
        ctx.session, settings, period, folder, station_id=station_id,
        formats=("docx", "xlsx") if documents else (), locale=ctx.locale,
        library=ctx.services.library, plan=load_plan_quietly(settings),
        issued_on=ctx.now.astimezone(TIMEZONE).date())
    fb, c = files.figures.feedback, files.figures.communication
    summary = _("Report {period}: {delivered} messages delivered, {received} feedback received, "
                "satisfaction {rate} (target 90 %).").format(
                    period=period.slug, delivered=c.delivered, received=fb.received,
                    rate=percent(fb.satisfaction.rate, ctx.locale))
    if not documents:
        ctx.reply(summary + "\n" + _("This channel cannot receive files: open /baocao {period} on "
                                     "Telegram, or run `healthbot report --period {period}`."
                                     ).format(period=period.slug))
        return
    ctx.reply(summary)
    for path in files.paths:
        ctx.replies.append(Outbound(text=path.name, document=str(path)))
