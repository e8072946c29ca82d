"""`healthbot plan show|check`: see and verify the communication plan (`scheduler.plan_cli`).

`show [--from DATE] [--to DATE] [--json] [--ics FILE] [--path P] [--region R] [--config C]` lists
the occurrences the plan will fire; `check [PATH] [--library DIR | --no-library]` validates the
plan files. With `--config`, the station's region and name come from the configuration (an explicit
`--region`/`--station` wins).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from scheduler.plan import REGIONS
from scheduler.plan_cli import main_check, main_show

DEFAULT_QUIET_HOURS = "21:00-07:00"  # what `plan show` applies (scheduler.occurrences defaults)


def register(
    sub: argparse._SubParsersAction, with_config: Callable[..., argparse.ArgumentParser]
) -> None:
    plan = sub.add_parser("plan", help="the communication plan (campaign calendar)")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)

    show = with_config(plan_sub.add_parser("show", help="list the sends the plan will make"))
    show.add_argument("--from", dest="start", metavar="DATE", help="first day (default today)")
    show.add_argument("--to", dest="end", metavar="DATE", help="last day (default +30 days)")
    show.add_argument("--json", action="store_true", help="print a JSON array")
    show.add_argument("--by-item", action="store_true", help="count the sends per plan item")
    show.add_argument("--ics", metavar="FILE", help="write an iCalendar file")
    show.add_argument("--path", help="plan file or folder (default content/plans)")
    show.add_argument("--region", choices=REGIONS, help="default: the configured region")
    show.add_argument("--station", help="calendar name (default: the configured station)")
    show.set_defaults(func=_show)

    check = plan_sub.add_parser("check", help="validate the plan files")
    check.add_argument("path", nargs="?", help="plan file or folder (default content/plans)")
    check.add_argument("--library", help="content library folder to check message ids against")
    check.add_argument("--no-library", action="store_true", help="do not check message ids")
    check.set_defaults(func=_check)


def _show(args: argparse.Namespace) -> int:
    region, station = args.region, args.station
    if args.config:
        from bot.config import load_settings

        settings = load_settings(args.config)
        region = region or settings.station.region
        station = station or settings.station.name
        if settings.broadcast.quiet_hours != DEFAULT_QUIET_HOURS:
            print(f"note: times are shown with quiet hours {DEFAULT_QUIET_HOURS}; the bot holds "
                  f"messages during {settings.broadcast.quiet_hours}", file=sys.stderr)
    argv: list[str] = []
    for flag, value in (("--from", args.start), ("--to", args.end), ("--ics", args.ics),
                        ("--path", args.path), ("--region", region), ("--station", station)):
        if value:
            argv += [flag, value]
    if args.json:
        argv.append("--json")
    if args.by_item:
        argv.append("--by-item")
    return main_show(argv)


def _check(args: argparse.Namespace) -> int:
    argv = [args.path] if args.path else []
    if args.library:
        argv += ["--library", args.library]
    if args.no_library:
        argv.append("--no-library")
    return main_check(argv)
