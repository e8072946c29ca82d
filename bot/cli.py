"""The `healthbot` command line.

`healthbot run`, `healthbot db upgrade`, `healthbot ask`, plus every sub-command a module in
`bot/commands/` registers (content, plan, qr, zalo, tickets...). Errors a user can cause (a broken
config file, a bad date) print one clear line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
from collections.abc import Sequence

import bot.commands
from bot import log_privacy
from bot.config import ConfigError, Settings, load_settings


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    log_privacy.register_settings(settings)  # its tokens and secrets never reach the log
    return settings


def _run(args: argparse.Namespace) -> int:
    import os

    from bot.app import run
    from bot.placeholders import check_station_for_residents, demo_requested

    settings = settings_from(args)
    if check_station_for_residents(settings, demo=demo_requested(args.demo, os.environ)):
        print("healthbot: DEMO mode: residents see a placeholder station with a made-up phone "
              "number; do not publish this bot", file=sys.stderr, flush=True)
    if args.port:
        from dataclasses import replace

        settings = replace(settings, web=replace(settings.web, port=args.port))
    run(settings)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import upgrade_sync

    settings = settings_from(args)
    upgrade_sync(settings.database.url)
    print("Database is up to date.")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from bot.i18n import normalize_locale
    from content.library import load_library
    from content.matching import Matcher
    from content.render import render_entry

    settings = settings_from(args)
    locale = normalize_locale(args.locale or settings.station.default_language)
    library = load_library()
    from bot.safety import red_flag_match  # danger first, as in the chat (docs/safety.md)

    result = red_flag_match(library, args.question) or Matcher(library).match(args.question, locale)
    if result.entry is not None:
        answer = render_entry(
            result.entry, locale, settings.station.info(), settings.bhyt.base_salary,
            library=library,
        )
        text, source = answer.text, answer.source_line
    else:
        from bot.i18n import gettext_for

        _ = gettext_for(locale)
        text = _(
            "Sorry, I have no information on that yet. Please call the health station at {phone}, "
            "or choose a topic from the menu. In an emergency call 115."
        ).format(phone=settings.station.phone)
        source = None
    if args.json:
        print(
            json.dumps(
                {
                    "topic": result.topic,
                    "entry": result.entry.id if result.entry else None,
                    "text": text,
                    "source": source,
                    "score": round(result.score, 4),
                },
                ensure_ascii=False,
            )
        )
    else:
        print(text if source is None else f"{text}\n\n{source}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthbot", description="Ward health station chatbot.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="PATH", help="TOML configuration file (default: none)")
        return p

    run = with_config(sub.add_parser("run", help="run the bot (web chat and configured channels)"))
    run.add_argument("--port", type=int, help="web chat port (overrides the configuration)")
    run.add_argument("--demo", action="store_true",
                     help="allow the placeholder station (to try the bot; also HEALTHBOT_DEMO=1)")
    run.set_defaults(func=_run)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    with_config(db_sub.add_parser("upgrade", help="apply database migrations")).set_defaults(
        func=_db_upgrade
    )

    ask = with_config(sub.add_parser("ask", help="answer one question the way the bot would"))
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--locale", choices=["vi", "en"])
    ask.set_defaults(func=_ask)

    for module in pkgutil.iter_modules(bot.commands.__path__):
        importlib.import_module(f"bot.commands.{module.name}").register(sub, with_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces its internal plugins at INFO on every start: noise for the station.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    log_privacy.install()  # no phone, cookie, token or SQL parameter reaches the log
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"healthbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a start-up fault gets one line; anything else is a bug
        from bot import startup_faults

        settings = _settings_or_none(args)
        if settings is None:
            raise
        line = startup_faults.explain(exc, settings.database.url,
                                      getattr(args, "port", None) or settings.web.port)
        if line is None:
            raise
        print(f"healthbot: {line}", file=sys.stderr)
        return startup_faults.EXIT_STARTUP_FAULT


def _settings_or_none(args: argparse.Namespace) -> Settings | None:
    try:
        return settings_from(args)
    except ConfigError:
        return None


if __name__ == "__main__":
    sys.exit(main())
