"""Drive the whole bot in-process with resident-style messages and print what residents get.

Questions: tests/data/residents_probe.tsv (an exploratory set: no diacritics, typos, teencode,
emojis, long sentences, English). Each message is sent by a new resident on the web channel to
the real engine (SQLite in a temporary directory), as the tests' `healthbot` fixture does.

Figures: red flags answered first (the urgent answer is the first reply) and missed; ordinary
messages that raised an alarm; on-topic answers; questions the library does not cover that still
got a topic (a confident wrong answer); crashes. Lines marked "# unsourced" are dangers the facts
file gives no answer for yet: they are counted apart.

    .venv/bin/python bench/residents.py [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_bot, build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from content.red_flags import detect  # noqa: E402
from storage.db import upgrade  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.transcript import Transcript  # noqa: E402

PROBE = Path(__file__).resolve().parents[1] / "tests" / "data" / "residents_probe.tsv"


def rows() -> list[tuple[str, str, bool]]:
    out = []
    for line in PROBE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split("\t")
            out.append((fields[0], fields[1], len(fields) > 2 and "unsourced" in fields[2]))
    return out


async def run(show: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/probe.db"
        await upgrade(url)
        base = load_settings(None, env={})
        services = build_services(
            replace(base, database=replace(base.database, url=url)), clock=FakeClock()
        )
        bot = build_bot(services)
        counts: Counter[str] = Counter()
        notes: list[str] = []
        for n, (message, expected, unsourced) in enumerate(rows()):
            chat = Transcript(bot, chat_id=f"probe-{n}")
            try:
                await chat.say(message)
            except Exception as exc:  # noqa: BLE001 - a crash is a finding, not the end of the run
                counts["crash"] += 1
                notes.append(f"crash {message!r}: {exc!r}")
                continue
            flag = detect(message)
            first = chat.replies[0] if chat.replies else None
            kind, _, arg = expected.partition(":")
            if kind == "flag":
                group = "unsourced" if unsourced else "flag"
                counts[f"{group} total"] += 1
                if flag is None:
                    counts[f"{group} missed"] += 1
                    notes.append(f"{group} missed {message!r} ({arg})")
                elif flag.kind != arg:
                    counts[f"{group} other kind"] += 1
                    notes.append(f"{group} answered as {flag.kind} {message!r} ({arg})")
            elif flag is not None:
                counts["alarm on an ordinary message"] += 1
                notes.append(f"alarm {flag.kind} on {message!r}")
            elif kind == "topic":
                counts["topic total"] += 1
                got = first.topic if first else None
                if got != arg:
                    counts["topic wrong" if got else "topic unanswered"] += 1
                    notes.append(f"topic {got or '-'} for {message!r} ({arg})")
            elif kind == "none":
                counts["outside total"] += 1
                if first is not None and first.topic is not None:
                    counts["outside given a topic"] += 1
                    notes.append(f"outside given {first.topic}: {message!r}")
        await services.db.close()
    print(f"{PROBE.name}: {sum(1 for _ in rows())} messages through the engine")
    for key in (
        "flag total",
        "flag missed",
        "flag other kind",
        "unsourced total",
        "unsourced missed",
        "alarm on an ordinary message",
        "topic total",
        "topic wrong",
        "topic unanswered",
        "outside total",
        "outside given a topic",
        "crash",
    ):
        print(f"  {key:32} {counts[key]}")
    if show:
        print("\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list every message that fell short")
    asyncio.run(run(parser.parse_args().show))


if __name__ == "__main__":
    main()
