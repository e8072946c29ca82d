"""`healthbot report`: the ward's 6-month or yearly report (issue 17) as DOCX and/or XLSX.

    healthbot report --period 2026-H1 [--format docx|xlsx|both] [--out DIR] [--lang vi|en]
    healthbot report --from 01/01/2026 --to 30/06/2026 ...
    healthbot report --period 2026 --json        # the figures only, as JSON

A progress bar on stderr shows the steps. Periods are local (Asia/Ho_Chi_Minh) dates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from bot.commands.tickets import EXIT_USAGE, parse_day, readable
from bot.config import load_settings
from bot.i18n import TIMEZONE, normalize_locale


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser(
        "report", help="the periodic report (6 months, year) as DOCX and XLSX"))
    parser.add_argument("--period", metavar="PERIOD", help="2026-H1, 2026-H2 or 2026")
    parser.add_argument("--from", dest="start", type=parse_day, metavar="DATE")
    parser.add_argument("--to", dest="end", type=parse_day, metavar="DATE")
    parser.add_argument("--format", choices=["docx", "xlsx", "both"], default="both")
    parser.add_argument("--out", metavar="DIR", default=".", help="folder for the files")
    parser.add_argument("--lang", choices=["vi", "en"], help="labels' language")
    parser.add_argument("--station", type=int, metavar="ID", help="one station only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=readable(report_command))


def _period(args: argparse.Namespace):  # noqa: ANN202
    from bot.report.figures import parse_period, period_between

    if args.period and (args.start or args.end):
        raise ValueError("give either --period or --from/--to")
    if args.period:
        return parse_period(args.period)
    if args.start and args.end:
        return period_between(args.start, args.end)
    raise ValueError("give --period 2026-H1|2026-H2|2026 or --from and --to")


def progress_bar(step: int, total: int, label: str) -> None:
    width = 24
    filled = width * step // max(total, 1)
    end = "\n" if step >= total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {step}/{total} {label:<8}", end=end,
          file=sys.stderr, flush=True)


def report_command(args: argparse.Namespace) -> int:
    try:
        period = _period(args)
    except ValueError as exc:
        print(f"healthbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings(getattr(args, "config", None))
    locale = normalize_locale(args.lang or settings.station.default_language)
    formats = ("docx", "xlsx") if args.format == "both" else (args.format,)
    result = asyncio.run(_make(settings, period, Path(args.out), formats, locale, args))
    if args.json:
        print(json.dumps(result.figures.as_dict(), ensure_ascii=False, indent=1))
        return 0
    for path in result.paths:
        print(path)
    return 0


async def _make(settings, period, out, formats, locale, args):  # noqa: ANN001, ANN202
    from datetime import datetime

    from bot.report.files import load_plan_quietly, make_report
    from content.library import load_library
    from storage.db import open_database

    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session:
            if args.json:
                from bot.report.figures import compute, library_topics

                figures = await compute(session, period, station_id=args.station,
                                        topic_of=library_topics(load_library()))
                return SimpleNamespace(figures=figures, paths=[])  # the figures, no files
            return await make_report(
                session, settings, period, out, formats=formats, locale=locale,
                library=load_library(), plan=load_plan_quietly(settings),
                issued_on=datetime.now(TIMEZONE).date(), station_id=args.station,
                progress=progress_bar)
    finally:
        await db.close()
