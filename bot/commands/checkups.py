"""`healthbot checkups`: check-up sessions at the station's desk computer (issue 20).

- `healthbot checkups [--json]` lists the sessions with places booked and people who came;
- `healthbot checkups sheet SESSION --xlsx FILE` writes the printable sign-in sheet (one row per
  booking, a column to sign); it holds names and phones, so keep the file at the station;
- `healthbot checkups coverage [--year 2026]` prints, per area and per priority group (age from
  the birth year given), the distinct people booked and examined in the year's sessions (a person
  examined twice counts once, `storage.checkups.person_key`; cancelled bookings and cancelled
  sessions do not count), then the sessions held and the visits (bookings marked as come).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.checkups.messages import area_names, hhmm
from bot.commands.tickets import _locale, _settings, readable
from bot.config import Settings
from bot.i18n import TIMEZONE, gettext_for, local_date
from storage import checkups
from storage.db import open_database

EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("checkups", help="check-up sessions: list, sign-in "
                                                         "sheet, coverage per area"))
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=readable(list_command))
    actions = parser.add_subparsers(dest="checkups_command")
    sheet = actions.add_parser("sheet", help="write a session's sign-in sheet (.xlsx)")
    sheet.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    sheet.add_argument("session", type=int)
    sheet.add_argument("--xlsx", required=True, metavar="FILE")
    sheet.set_defaults(func=readable(sheet_command))
    coverage = actions.add_parser("coverage", help="people booked and examined per area")
    coverage.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    coverage.add_argument("--year", type=int, help="default: this year")
    coverage.add_argument("--json", action="store_true", help="print JSON")
    coverage.set_defaults(func=readable(coverage_command))


async def _read(settings: Settings, work: Any) -> Any:  # noqa: ANN401
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session:
            return await work(session)
    finally:
        await db.close()


async def _sessions(session: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    out = []
    for row in await checkups.all_sessions(session):
        places = await checkups.slots(session, row.id)
        people = await checkups.bookings_of(session, row.id)
        out.append({
            "id": row.id, "starts_at": row.starts_at, "ends_at": row.ends_at, "place": row.place,
            "areas": row.areas, "status": row.status, "places": sum(s.capacity for s in places),
            "booked": len(people), "came": sum(1 for b, _at in people if b.status == "attended"),
        })  # fmt: skip
    return out


def list_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    locale = _locale(settings)
    _ = gettext_for(locale)
    rows = asyncio.run(_read(settings, _sessions))
    if args.json:
        print(json.dumps([{k: v.isoformat() if isinstance(v, datetime) else v
                           for k, v in r.items()} for r in rows], ensure_ascii=False))
        return 0
    if not rows:
        print(_("No check-up session is planned. Create one with /taokham."))
        return 0
    for r in rows:
        print(f"#{r['id']}  {local_date(r['starts_at'], locale)} {hhmm(r['starts_at'])}–"
              f"{hhmm(r['ends_at'])}  {r['place']}  [{area_names(settings, r['areas'], locale)}]  "
              + _("{booked}/{places} booked, {came} came").format(**r))
    return 0


def sheet_command(args: argparse.Namespace) -> int:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Border, Font, Side  # type: ignore[import-untyped]

    settings = _settings(args)
    locale = _locale(settings)
    _ = gettext_for(locale)

    async def work(session: Any) -> Any:  # noqa: ANN401
        return (await checkups.get_session(session, args.session),
                await checkups.bookings_of(session, args.session))

    row, people = asyncio.run(_read(settings, work))
    if row is None:
        print(_("There is no session {id}.").format(id=args.session))
        return EXIT_USAGE
    book = Workbook()
    sheet = book.active
    sheet.title = _("Sign-in sheet")
    sheet.append([settings.station.name])
    sheet.append([_("Sign-in sheet – free check-up {date}, {start}–{end}, {place}").format(
        date=local_date(row.starts_at, locale), start=hhmm(row.starts_at), end=hhmm(row.ends_at),
        place=row.place)])
    sheet.append([])
    headers = [_("No."), _("Time"), _("Full name"), _("Birth year"), _("Area"), _("Phone"),
               _("Came"), _("Signature")]
    sheet.append(headers)
    for n, (b, at) in enumerate(people, 1):
        sheet.append([n, hhmm(at), b.full_name or "", b.birth_year or "", b.area_code or "",
                      b.phone or "", "✓" if b.status == "attended" else "", ""])
    thin = Side(style="thin")
    for cells in sheet.iter_rows(min_row=4, max_row=sheet.max_row, max_col=len(headers)):
        for cell in cells:
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            cell.alignment = Alignment(vertical="center")
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    sheet["A1"].font = Font(bold=True)
    sheet["A2"].font = Font(bold=True, size=13)
    for column, width in zip("ABCDEFGH", (5, 7, 28, 9, 9, 13, 6, 22), strict=True):
        sheet.column_dimensions[column].width = width
    for r in range(5, sheet.max_row + 1):
        sheet.row_dimensions[r].height = 26  # room for a signature
    sheet.print_title_rows = "4:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    Path(args.xlsx).parent.mkdir(parents=True, exist_ok=True)
    book.save(args.xlsx)
    print(_("{count} people written to {path}").format(count=len(people), path=args.xlsx))
    return 0


def coverage_command(args: argparse.Namespace) -> int:
    from bot.checkups.coverage import coverage_json, coverage_text, year_coverage

    settings = _settings(args)
    locale = _locale(settings)
    year = args.year or datetime.now(TIMEZONE).year
    cov = asyncio.run(_read(settings, lambda s: year_coverage(s, year)))
    if args.json:
        print(json.dumps(coverage_json(settings, cov, year), ensure_ascii=False))
        return 0
    print(coverage_text(settings, cov, year, locale))
    return 0
