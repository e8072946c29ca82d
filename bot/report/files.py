"""Make a period's report files: figures -> content -> charts -> DOCX and/or XLSX.

Used by `healthbot report` and by `/baocao` in a staff chat. `progress(step, total, label)` is
called between the steps (the CLI draws its progress bar with it).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.report import content as report_content
from bot.report.figures import Period, ReportFigures, compute, library_topics

log = logging.getLogger(__name__)
FORMATS = ("docx", "xlsx")
Progress = Callable[[int, int, str], None]


@dataclass
class ReportFiles:
    figures: ReportFigures
    content: report_content.ReportContent
    paths: list[Path]


def file_stem(period: Period, locale: str) -> str:
    return ("bao-cao-" if locale == "vi" else "report-") + period.slug


def load_plan_quietly(settings: Settings) -> Any:
    """The station's plan, or None when it cannot be read (the report then has no plan items)."""
    try:
        from scheduler.plan import load_plan

        return load_plan(region=settings.station.region)
    except Exception:  # a broken plan must not stop the report; `healthbot plan check` says why
        log.warning("the plan could not be read; the report lists no plan items")
        return None


async def make_report(session: AsyncSession, settings: Settings, period: Period, out_dir: Path,
                      *, formats: tuple[str, ...] = FORMATS, locale: str = "vi",
                      library: Any = None, plan: Any = None, issued_on: date,
                      station_id: int | None = None,
                      progress: Progress | None = None) -> ReportFiles:
    step = progress or (lambda *_a: None)
    total = 2 + len(formats) + ("docx" in formats)
    step(0, total, "figures")
    topics = library_topics(library) if library is not None else None
    figures = await compute(session, period, station_id=station_id, topic_of=topics)
    step(1, total, "content")
    built = report_content.build(figures, settings, locale, library=library, plan=plan)
    paths: list[Path] = []
    done = 2
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(period, locale)
    if "docx" in formats:
        from bot.report.charts import draw_all
        from bot.report.docx_out import write_docx

        step(done, total, "charts")
        with tempfile.TemporaryDirectory(prefix="healthbot-charts-") as tmp:
            charts = draw_all(built, Path(tmp))
            done += 1
            step(done, total, "docx")
            paths.append(write_docx(built, settings, out_dir / f"{stem}.docx", charts=charts,
                                    issued_on=issued_on))
        done += 1
    if "xlsx" in formats:
        from bot.report.xlsx_out import write_xlsx

        step(done, total, "xlsx")
        paths.append(write_xlsx(built, settings, out_dir / f"{stem}.xlsx"))
        done += 1
    step(total, total, "done")
    return ReportFiles(figures, built, paths)
