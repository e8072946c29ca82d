"""`/baocao 2026-H1` (or the buttons under `/baocao`): the period's report files sent to the staff
member as documents (issue 17). Role-checked by the engine (`Action.REPORT_VIEW`).

The files are aggregates only (no personal data) and are written to a temporary folder from which
the outbox sends them. Telegram receives both as documents. The Zalo OA receives the DOCX as a file
(uploaded with `/v2.0/oa/upload/file`, which takes PDF/DOC/DOCX up to 5 MB only) and the XLSX as a
one-time download link; the Zalo Bot Platform has no file method at all, so both are links
(`bot/report/downloads.py`). Without a public web address (`[posters] web_url`) there is no link:
the member is told to fetch the file on Telegram or with `healthbot report`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.context import Context
from bot.i18n import TIMEZONE
from bot.model import Button, Outbound
from bot.permissions import Action
from bot.report.content import percent
from bot.report.downloads import download_origin, offer
from bot.report.figures import Period, current_half, parse_period
from bot.router import Router

router = Router()
REPORT_DIR = Path(tempfile.gettempdir()) / "healthbot-reports"
DOCUMENT_CHANNELS = ("telegram",)  # every file goes as a document
FILE_CHANNELS = ("zalo_oa",)  # the files the OA upload takes go as files, the others as links


def sent_as_file(channel: str, path: Path) -> bool:
    if channel in DOCUMENT_CHANNELS:
        return True
    if channel in FILE_CHANNELS:
        from bot.channels.zalo_oa_send import can_send_file

        return can_send_file(path)
    return False


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
    channel = ctx.inbound.channel
    # Make only what can reach the member: links need the station's public web address.
    formats: tuple[str, ...] = (
        ("docx", "xlsx") if channel in DOCUMENT_CHANNELS or download_origin(settings.posters.web_url)
        else ("docx",) if channel in FILE_CHANNELS else ())
    folder = REPORT_DIR / f"{ctx.inbound.channel}-{ctx.inbound.chat_id}"
    member = ctx.staff_member()  # province staff get the province's figures, others their station's
    station_id = None if member is not None and member.province else ctx.station_id
    files = await make_report(
        ctx.session, settings, period, folder, station_id=station_id,
        formats=formats, locale=ctx.locale,
        library=ctx.services.library, plan=load_plan_quietly(settings),
        issued_on=ctx.now.astimezone(TIMEZONE).date())
    fb, c = files.figures.feedback, files.figures.communication
    summary = _("Report {period}: {delivered} messages delivered, {received} feedback received, "
                "satisfaction {rate} (target 90 %).").format(
                    period=period.slug, delivered=c.delivered, received=fb.received,
                    rate=percent(fb.satisfaction.rate, ctx.locale))
    as_files = [p for p in files.paths if sent_as_file(channel, p)]
    links = [(p.name, url) for p in files.paths if p not in as_files
             if (url := offer(p, REPORT_DIR, settings.posters.web_url))]
    lines = [summary]
    if links:
        lines.append(_("Download link (works once, for 24 hours):"))
        lines += [f"{name}: {url}" for name, url in links]
    if len(as_files) + len(links) < 2 and as_files:  # one file came, the other cannot
        lines.append(_("The other file cannot come on this channel: open /baocao {period} on "
                       "Telegram, or run `healthbot report --period {period}`."
                       ).format(period=period.slug))
    elif len(as_files) + len(links) < 2:
        lines.append(_("This channel cannot receive files: open /baocao {period} on "
                       "Telegram, or run `healthbot report --period {period}`."
                       ).format(period=period.slug))
    ctx.reply("\n".join(lines))
    for path in as_files:
        ctx.replies.append(Outbound(text=path.name, document=str(path)))
