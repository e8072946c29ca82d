"""``healthbot plan show`` and ``healthbot plan check``: let staff see and verify the plan.

``show`` lists every occurrence in a date range after quiet hours are applied, as a table
(dd/mm/yyyy HH:MM, Vietnam time), as JSON (``--json``) or as an iCalendar file (``--ics FILE``).
The lead wires ``main_show``/``main_check`` into the ``healthbot`` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

from scheduler import plan as plan_module
from scheduler.ics import to_ics
from scheduler.occurrences import VN_TZ, Occurrence, occurrences
from scheduler.plan import DEFAULT_REGION, REGIONS, PlanError, load_plan

DEFAULT_RANGE_DAYS = 30
DEFAULT_STATION_NAME = "Trạm Y tế"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def _parse_date(text: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(
        f"ngày không hợp lệ / invalid date {text!r}: dùng / use dd/mm/yyyy or YYYY-MM-DD"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healthbot plan show",
        description="Lịch gửi tin theo kế hoạch / occurrences the plan will send.",
    )
    parser.add_argument("--from", dest="start", type=_parse_date, help="first day (default today)")
    parser.add_argument(
        "--to",
        dest="end",
        type=_parse_date,
        help=f"last day, inclusive (default first day + {DEFAULT_RANGE_DAYS} days)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--by-item", action="store_true",
                        help="count the sends per ward plan item (the campaigns' `serves:`)")
    parser.add_argument("--ics", type=Path, metavar="FILE", help="write an iCalendar file")
    parser.add_argument("--path", type=Path, help="plan file or folder (default content/plans)")
    parser.add_argument("--region", choices=REGIONS, default=DEFAULT_REGION)
    parser.add_argument("--station", default=DEFAULT_STATION_NAME, help="name for the calendar")
    return parser


def _table(items: list[Occurrence]) -> str:
    header = ("Thời gian / Time", "Chiến dịch / Campaign", "Chủ đề / Topic", "Tin / Message",
              "Người nhận / Audience")
    rows = [header]
    for o in items:
        when = f"{o.at.astimezone(VN_TZ):%d/%m/%Y %H:%M}"
        if o.urgent:
            when += " !"
        elif o.at != o.planned_at:
            when += " *"
        rows.append((when, o.campaign_id, o.topic, o.message_id, o.audience.describe()))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _by_item(items: list[Occurrence]) -> str:
    """Sends and campaigns per ward plan item, so a report can say what each item got."""
    counts: dict[str, tuple[int, set[str]]] = {}
    for o in items:
        sends, campaigns = counts.get(o.serves or "-", (0, set()))
        counts[o.serves or "-"] = (sends + 1, campaigns | {o.campaign_id})
    width = max((len(k) for k in counts), default=0)
    return "\n".join(f"{item.ljust(width)}  {sends:>4} lần gửi / sends  ({', '.join(sorted(c))})"
                     for item, (sends, c) in sorted(counts.items()))


def main_show(argv: list[str] | None = None) -> int:
    """``healthbot plan show``; returns the exit status (2: invalid plan or arguments)."""
    args = _parser().parse_args(argv)
    today = datetime.now(VN_TZ).date()
    first = args.start or today
    last = args.end or first + timedelta(days=DEFAULT_RANGE_DAYS)
    if last < first:
        print("--to phải sau --from / --to must not be before --from", file=sys.stderr)
        return 2
    try:
        plan = load_plan(args.path, region=args.region)
    except PlanError as exc:
        print(exc, file=sys.stderr)
        return 2
    start = datetime.combine(first, time(0, 0), tzinfo=VN_TZ)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=VN_TZ)
    items = occurrences(plan, start, end)
    if args.ics:
        args.ics.write_bytes(to_ics(items, args.station))
    if args.json:
        print(json.dumps([o.to_dict() for o in items], ensure_ascii=False, indent=2))
        return 0
    span = f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"
    if args.by_item:
        print(f"Kế hoạch ({args.region}) theo mục / per plan item, {span}:")
        print(_by_item(items))
        return 0
    print(f"Kế hoạch ({args.region}) / plan ({args.region}), {span}: {len(items)} lần gửi / sends")
    if items:
        print(_table(items))
        print("* dời vì giờ yên tĩnh / held by quiet hours;  ! khẩn / urgent")
    if args.ics:
        print(f"Đã ghi lịch / calendar written: {args.ics} ({len(items)} sự kiện / events)")
    return 0


def _library_ids(library_dir: Path | None) -> set[str] | None:
    """Entry ids of the content library, or None (with a note) when it cannot be read."""
    from content.library import LibraryError, load_library  # content is pure data, like us

    try:
        return {entry.id for entry in load_library(library_dir).entries()}
    except LibraryError as exc:
        print(f"Không đọc được thư viện / library not readable: {exc}", file=sys.stderr)
        return None


def main_check(argv: list[str] | None = None, library_entry_ids: set[str] | None = None) -> int:
    """``healthbot plan check [PATH] [--library DIR | --no-library]``: 0 when valid, 1 with the
    problems printed. Message ids are checked against the content library unless ``--no-library``
    (or ``library_entry_ids`` is given by the caller)."""
    parser = argparse.ArgumentParser(prog="healthbot plan check", add_help=False)
    parser.add_argument("--library", type=Path)
    parser.add_argument("--no-library", action="store_true")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if library_entry_ids is None and not args.no_library:
        library_entry_ids = _library_ids(args.library)
    return plan_module.main_check(rest, library_entry_ids)


__all__ = ["main_check", "main_show"]
