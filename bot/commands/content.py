"""`healthbot content check [--path DIR] [--today YYYY-MM-DD] [--max-review-months N]`: validate the
library before publishing."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from content.check import main as check_main


def register(
    sub: argparse._SubParsersAction, with_config: Callable[..., argparse.ArgumentParser]
) -> None:
    content = sub.add_parser("content", help="the health content library")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser(
        "check", help="validate the library: schema, sources, review dates, English, lengths"
    )
    check.add_argument("--path", help="library folder (default: the shipped content/library)")
    check.add_argument("--today", help="check review ages as of this date (YYYY-MM-DD)")
    check.add_argument("--max-review-months", type=int, default=None,
                       help="an entry reviewed longer ago is an error (default 12)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    argv: list[str] = []
    if args.path:
        argv += ["--path", args.path]
    if args.today:
        argv += ["--today", args.today]
    if args.max_review_months is not None:
        argv += ["--max-review-months", str(args.max_review_months)]
    return check_main(argv)
