"""The console's report pages (issue 18, point 5): the periodic report's figures, tables and
charts, and its DOCX / XLSX files, from the report's own builder (`bot.report`).

Which figures: a station's staff see their station (one of theirs, if they work for several);
province staff see the aggregate of every station (station None), or one station if they choose.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, StaffMember
from bot.report import content as report_content
from bot.report.charts import draw_all
from bot.report.figures import Period, compute, library_topics
from bot.report.files import FORMATS, file_stem, make_report
from bot.stations import scope_of, settings_for

_DRAWING = threading.Lock()  # pyplot keeps global state: one drawing at a time
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def station_choice(member: StaffMember, settings: Settings, wanted: str | None) -> int | None:
    """The station whose figures the member sees: None (every station) for province staff
    unless they pick one; otherwise the picked one if it is theirs, else their first."""
    scope = scope_of(member, settings)
    picked = int(wanted) if wanted and wanted.isdigit() else None
    if picked is not None and picked in scope:
        return picked
    return None if member.province else (scope[0] if scope else 1)


def station_options(member: StaffMember, settings: Settings) -> Collection[int]:
    return scope_of(member, settings)


@dataclass
class ReportView:
    content: report_content.ReportContent
    charts: list[tuple[str, str]]  # caption, data: URI of the PNG


async def report_view(session: AsyncSession, settings: Settings, period: Period, *,
                      station_id: int | None, locale: str, library: Any,
                      plan: Any) -> ReportView:
    topics = library_topics(library) if library is not None else None
    figures = await compute(session, period, station_id=station_id, topic_of=topics)
    view = settings if station_id is None else settings_for(settings, station_id)
    built = report_content.build(figures, view, locale, library=library, plan=plan)
    charts = await asyncio.to_thread(_charts, built)  # off the event loop: replies go on
    return ReportView(built, charts)


def _charts(built: report_content.ReportContent) -> list[tuple[str, str]]:
    charts = []
    with _DRAWING, tempfile.TemporaryDirectory(prefix="healthbot-console-charts-") as tmp:
        for caption, path in draw_all(built, Path(tmp)):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            charts.append((caption, f"data:image/png;base64,{data}"))
    return charts


async def report_file(session: AsyncSession, settings: Settings, period: Period, fmt: str, *,
                      station_id: int | None, locale: str, library: Any, plan: Any,
                      issued_on: date) -> tuple[str, bytes]:
    """(file name, bytes) of the period's DOCX or XLSX, written by the report's builder."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    view = settings if station_id is None else settings_for(settings, station_id)
    with tempfile.TemporaryDirectory(prefix="healthbot-console-report-") as tmp:
        files = await make_report(session, view, period, Path(tmp), formats=(fmt,),
                                  locale=locale, library=library, plan=plan,
                                  issued_on=issued_on, station_id=station_id)
        path = files.paths[0]
        return f"{file_stem(period, locale)}.{fmt}", path.read_bytes()
