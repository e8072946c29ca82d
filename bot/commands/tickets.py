"""`healthbot tickets`: feedback tickets at the station's desk computer.

- `healthbot tickets [--status open|overdue|closed] [--json]` lists tickets (newest last);
- `healthbot tickets export --from 2026-01-01 --to 2026-06-30 --xlsx FILE` writes a spreadsheet;
- `healthbot tickets report --from 2026-01-01 --to 2026-06-30 [--json]` prints the period's
  figures (for the 6-month and yearly reports): counts, on-time rates, satisfaction per month.
Dates are local (dd/mm/yyyy or yyyy-mm-dd); `--to` is inclusive. Authors' identities and phone
numbers are never printed or exported.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, load_settings
from bot.feedback import reports
from bot.feedback.categories import category, category_name
from bot.feedback.filing import status_label
from bot.i18n import TIMEZONE, gettext_for, local_datetime, normalize_locale
from storage import tickets
from storage.db import open_database
from storage.models import Ticket

EXIT_USAGE = 2
TEXT_PREVIEW_CHARS = 60
STATUSES = ("open", "overdue", "closed")


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("tickets", help="list, export and report feedback tickets"))
    parser.add_argument("--status", choices=STATUSES, help="only these tickets")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=readable(list_command))
    actions = parser.add_subparsers(dest="tickets_command")
    export = actions.add_parser("export", help="write tickets to an .xlsx file")
    _period_args(export)
    export.add_argument("--xlsx", required=True, metavar="FILE")
    export.set_defaults(func=readable(export_command))
    report = actions.add_parser("report", help="figures for a period")
    _period_args(report)
    report.add_argument("--json", action="store_true", help="print JSON")
    report.set_defaults(func=readable(report_command))


def readable(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A database that is missing or not migrated gives one clear line, not a traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except SQLAlchemyError as exc:
            print(
                f"healthbot: cannot read the tickets ({type(exc).__name__}); "
                "check database.url and run `healthbot db upgrade`",
                file=sys.stderr,
            )
            return EXIT_USAGE

    return run


def _period_args(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a --config given before the action word is kept, not reset by the sub-parser.
    parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    parser.add_argument("--from", dest="start", required=True, type=parse_day, metavar="DATE")
    parser.add_argument("--to", dest="end", required=True, type=parse_day, metavar="DATE")


def parse_day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a date: {text!r} (use dd/mm/yyyy or yyyy-mm-dd)")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _locale(settings: Settings) -> str:
    return normalize_locale(settings.station.default_language)


async def _tickets(settings: Settings, **filters: Any) -> list[Ticket]:
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session:
            return await tickets.list_tickets(session, now=datetime.now(UTC), **filters)
    finally:
        await db.close()


def list_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = asyncio.run(_tickets(settings, status=args.status))
    locale = _locale(settings)
    _ = gettext_for(locale)
    if args.json:
        print(json.dumps([_jsonable(tickets.as_row(t)) for t in rows], ensure_ascii=False))
        return 0
    if not rows:
        print(_("No tickets."))
        return 0
    now = datetime.now(UTC)
    for t in rows:
        late = " !" + _("overdue") if tickets.is_overdue(t, now) else ""
        preview = t.text.replace("\n", " ")[:TEXT_PREVIEW_CHARS]
        print(
            f"{t.code}  {local_datetime(t.created_at, locale)}  "
            f"{category_name(category(settings, t.category), locale, t.category)}  "
            f"[{status_label(_, t)}{late}]  {preview}"
        )
    return 0


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _bounds(args: argparse.Namespace) -> tuple[date, date] | None:
    if args.end < args.start:
        print("healthbot: --to is before --from", file=sys.stderr)
        return None
    return args.start, args.end + timedelta(days=1)


def export_command(args: argparse.Namespace) -> int:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    settings = _settings(args)
    bounds = _bounds(args)
    if bounds is None:
        return EXIT_USAGE
    start, end = bounds
    rows = asyncio.run(
        _tickets(settings, start=reports.local_midnight(start), end=reports.local_midnight(end))
    )
    locale = _locale(settings)
    _ = gettext_for(locale)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Tickets")
    headers = [
        _("Code"), _("Filed"), _("Category"), _("Urgency"), _("Status"), _("Area"),
        _("Anonymous"), _("Accept by"), _("Accepted"), _("Resolve by"), _("Closed"),
        _("Handled by"), _("Rating"), _("Description"),
    ]  # fmt: skip
    sheet.append(headers)
    for t in rows:
        sheet.append([
            t.code, _excel(t.created_at),
            category_name(category(settings, t.category), locale, t.category),
            t.urgency, status_label(_, t), t.area_code or "", _("yes") if t.anonymous else _("no"),
            _excel(t.accept_due), _excel(t.accepted_at), _excel(t.resolve_due),
            _excel(t.closed_at), t.assignee or "", t.rating, t.text,
        ])  # fmt: skip
    for column in "BHIJK":
        for cell in sheet[column][1:]:
            cell.number_format = "dd/mm/yyyy hh:mm"
    Path(args.xlsx).parent.mkdir(parents=True, exist_ok=True)
    book.save(args.xlsx)
    print(_("{count} tickets written to {path}").format(count=len(rows), path=args.xlsx))
    return 0


def _excel(value: datetime | None) -> datetime | None:
    """Spreadsheets have no time zones: local wall-clock time."""
    return value.astimezone(TIMEZONE).replace(tzinfo=None) if value else None


async def _report(
    settings: Settings, start: date, end: date
) -> tuple[reports.PeriodReport, list[tuple[date, reports.Satisfaction]]]:
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session:
            report = await reports.period_report(session, start, end)
            monthly = await reports.satisfaction_by_month(session, start, end)
            return report, monthly
    finally:
        await db.close()


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def report_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    bounds = _bounds(args)
    if bounds is None:
        return EXIT_USAGE
    report, monthly = asyncio.run(_report(settings, *bounds))
    sat = report.satisfaction
    if args.json:
        print(json.dumps({
            "from": args.start.isoformat(), "to": args.end.isoformat(), "filed": report.filed,
            "by_category": report.by_category, "by_status": report.by_status,
            "accepted": report.accepted, "accepted_on_time": report.accepted_on_time,
            "closed": report.closed, "resolved_on_time": report.resolved_on_time,
            "ratings": sat.ratings, "satisfied": sat.satisfied, "satisfaction_rate": sat.rate,
            "by_month": [
                {"month": m.strftime("%Y-%m"), "ratings": s.ratings, "satisfaction_rate": s.rate}
                for m, s in monthly
            ],
        }, ensure_ascii=False))  # fmt: skip
        return 0
    locale = _locale(settings)
    _ = gettext_for(locale)
    lines = [
        _("Feedback from {start} to {end}").format(
            start=args.start.strftime("%d/%m/%Y"), end=args.end.strftime("%d/%m/%Y")
        ),
        _("Filed: {count}").format(count=report.filed),
    ]
    for code, count in report.by_category.items():
        lines.append(f"  {category_name(category(settings, code), locale, code)}: {count}")
    lines.append(
        _("Accepted on time: {part} of {whole} ({percent})").format(
            part=report.accepted_on_time, whole=report.accepted,
            percent=_percent(report.accepted_on_time, report.accepted),
        )
    )  # fmt: skip
    lines.append(
        _("Resolved on time: {part} of {whole} ({percent})").format(
            part=report.resolved_on_time, whole=report.closed,
            percent=_percent(report.resolved_on_time, report.closed),
        )
    )  # fmt: skip
    lines.append(
        _("Satisfied (4–5 stars): {part} of {whole} ratings ({percent})").format(
            part=sat.satisfied, whole=sat.ratings, percent=_percent(sat.satisfied, sat.ratings)
        )
    )
    for month, s in monthly:
        lines.append(
            f"  {month.strftime('%m/%Y')}: {_percent(s.satisfied, s.ratings)} ({s.ratings})"
        )
    print("\n".join(lines))
    return 0
