"""Benchmark: one campaign to 10,000 Telegram recipients through FakeTelegram with its flood limits.

Three runs against a fresh FakeTelegram each (limits on, every rate multiplied by ``--scale`` so the
run takes seconds, not the 5.5 minutes 10,000 messages need at Telegram's real 30 msg/s):
1. healthbot: the planner fires one campaign occurrence (5,000 resident groups + 5,000 private
   subscribers) into the outbox; a worker subprocess runs the outbox dispatcher with the real
   TelegramSender (python-telegram-bot over HTTP) until the outbox is empty.
2. the same, but the worker is SIGKILLed when half the messages are out, then started again.
3. a plain python-telegram-bot loop: ExtBot with AIORateLimiter (30 msg/s overall, 20/min per
   group, both scaled), 64 sends at a time, in a subprocess.

For each it prints achieved rate / allowed rate, the 429s the fake answered, messages lost and
messages duplicated (and, for the kill, how many rows were in flight when it died).

    /work/venv/bin/python bench/broadcast.py [--recipients 10000] [--scale 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import FakeTelegram, FloodLimits  # noqa: E402

WORKER_ID = "bench-worker"  # stable: a restarted worker resumes its own rows at once
FIRE_AT = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam, in the past: due at once
PLAN = """version: 1
campaigns:
  - id: bench-food-safety
    topic: food-safety
    window: {fixed: {start: "2026-01-05", end: "2026-01-05"}}
    rhythm: {once: {time: "08:00"}}
    audience: {groups: all, subscribers_of: food-safety}
    messages: [food-safety.basics]
"""
IN_FLIGHT = 64
PTB_CONCURRENCY = 64
TELEGRAM_RATE = 30.0
GROUP_PER_MINUTE = 20.0
DONE_POLL = 1.0
RUN_TIMEOUT = 600.0


def group_id(i: int) -> int:
    return -1_000_000 - i


def private_id(i: int) -> int:
    return 1_000_000 + i


def recipients(n: int) -> list[int]:
    groups = n // 2
    return [group_id(i) for i in range(groups)] + [private_id(i) for i in range(n - groups)]


# --- the database and the campaign --------------------------------------------------------------


async def prepare(db_url: str, n: int) -> int:
    """Migrate, add n recipients, and let the planner fire the campaign; returns rows queued."""
    from sqlalchemy import insert

    from bot.config import load_settings
    from content.library import load_library
    from scheduler.plan import load_plan
    from scheduler.planner import Planner
    from storage.db import open_database, upgrade
    from storage.models import Chat, Person, Subscription

    await upgrade(db_url)
    db = open_database(db_url)
    settings = load_settings(None, env={})
    settings = replace(settings, database=replace(settings.database, url=db_url))
    ids = recipients(n)
    private = [c for c in ids if c > 0]
    async with db.sessions() as session, session.begin():
        await session.execute(insert(Person), [{"id": i + 1, "locale": "vi", "area_code": "TDP1"}
                                               for i in range(len(private))])
        await session.execute(insert(Chat), [
            {"channel": "telegram", "external_id": str(c), "kind": "group", "area_code": "TDP1"}
            for c in ids if c < 0] + [
            {"channel": "telegram", "external_id": str(c), "kind": "private", "person_id": i + 1}
            for i, c in enumerate(private)])
        await session.execute(insert(Subscription), [
            {"person_id": i + 1, "topic": "food-safety"} for i in range(len(private))])
    plan_file = Path(tempfile.mkdtemp()) / "bench.yaml"
    plan_file.write_text(PLAN, encoding="utf-8")
    clock = [FIRE_AT.replace(hour=0)]
    planner = Planner(db, settings, load_library(), load_plan(plan_file), lambda: clock[0])
    await planner.fire_due()  # first start: sets the mark
    clock[0] = FIRE_AT
    report = await planner.fire_due()
    await planner.stop()
    await db.close()
    return report.rows


async def outbox_counts(db_url: str) -> Counter[str]:
    from sqlalchemy import func, select

    from storage.db import open_database
    from storage.models import Outbox

    db = open_database(db_url)
    async with db.sessions() as session:
        rows = (await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)))
        counts = Counter({status: n for status, n in rows.all()})
    await db.close()
    return counts


# --- subprocess workers ---------------------------------------------------------------------------


async def run_until_outbox_empty(db: Any, dispatcher: Any) -> None:
    """Run a `scheduler.dispatcher.Dispatcher` until no outbox row of `db` (a
    `storage.db.Database`) is pending or being sent, then stop it."""
    from sqlalchemy import func, select

    from storage.models import Outbox

    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run_forever(stop))
    unfinished = select(func.count()).where(Outbox.status.in_(("pending", "sending")))
    while True:
        await asyncio.sleep(DONE_POLL)
        async with db.sessions() as session:
            if not (await session.execute(unfinished)).scalar():
                break
    stop.set()
    await task


async def worker(db_url: str, api_url: str, token: str, scale: float) -> None:
    """The dispatcher with the real Telegram sender, until nothing is pending or sending."""
    from telegram import Bot

    from bot.channels.telegram_send import TelegramSender
    from scheduler.dispatcher import Dispatcher
    from scheduler.pacing import TELEGRAM_LIMITS
    from storage.db import open_database

    db = open_database(db_url)
    bot = Bot(token, base_url=api_url)
    await bot.initialize()
    dispatcher = Dispatcher(db, {"telegram": TelegramSender(bot)}, worker_id=WORKER_ID,
                            limits={"telegram": TELEGRAM_LIMITS.scaled(scale)},
                            max_in_flight=IN_FLIGHT)
    await run_until_outbox_empty(db, dispatcher)
    await bot.shutdown()
    await db.close()
    print(json.dumps(dispatcher.stats), flush=True)


async def ptb_loop(api_url: str, token: str, scale: float, n: int) -> None:
    """What a plain python-telegram-bot broadcast looks like: AIORateLimiter and gather."""
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot

    limiter = AIORateLimiter(overall_max_rate=TELEGRAM_RATE * scale, overall_time_period=1,
                             group_max_rate=GROUP_PER_MINUTE * scale, group_time_period=60,
                             max_retries=3)
    bot = ExtBot(token, base_url=api_url, rate_limiter=limiter)
    await bot.initialize()
    gate = asyncio.Semaphore(PTB_CONCURRENCY)
    failed = Counter[str]()

    async def send(chat_id: int) -> None:
        async with gate:
            try:
                await bot.send_message(chat_id, "Tin sức khỏe: an toàn thực phẩm")
            except RetryAfter:
                failed["retry_after"] += 1
            except TelegramError as exc:
                failed[type(exc).__name__] += 1

    await asyncio.gather(*(send(c) for c in recipients(n)))
    await bot.shutdown()
    print(json.dumps(dict(failed)), flush=True)


async def spawn(*args: str) -> asyncio.subprocess.Process:
    env = os.environ | {"PTB_TIMEDELTA": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).resolve()), *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE)


# --- measuring ----------------------------------------------------------------------------------


def measure(fake: FakeTelegram, n: int, scale: float, label: str, extra: str = "") -> dict:
    ok = [c for c in fake.calls if c.method.lower() == "sendmessage" and c.status == 200]
    limited = sum(1 for c in fake.calls if c.status == 429)
    per_chat = Counter(int(c.params["chat_id"]) for c in ok)
    lost = sum(1 for chat in recipients(n) if per_chat[chat] == 0)
    duplicated = sum(count - 1 for count in per_chat.values() if count > 1)
    span = (ok[-1].time - ok[0].time) if len(ok) > 1 else float("nan")
    allowed = TELEGRAM_RATE * scale
    rate = (len(ok) - 1) / span if span else float("nan")
    result = {"run": label, "sent": len(ok), "seconds": round(span, 2),
              "rate": round(rate, 1), "allowed": allowed, "ratio": round(rate / allowed, 3),
              "429s": limited, "lost": lost, "duplicated": duplicated}
    print(f"{label:<34} {len(ok):>6} sent in {span:6.1f} s = {rate:6.1f} msg/s / {allowed:.0f} "
          f"allowed = {rate / allowed:5.3f}; 429s {limited}; lost {lost}; duplicated "
          f"{duplicated}{extra}", flush=True)
    return result


async def run_healthbot(n: int, scale: float, kill: bool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    queued = await prepare(db_url, n)
    assert queued == n, f"the campaign queued {queued} rows, expected {n}"
    async with FakeTelegram(flood_limits=FloodLimits(scale=scale)) as fake:
        args = ("--worker", "--db", db_url, "--api", fake.bot_api_url, "--token", fake.token,
                "--scale", str(scale))
        process = await spawn(*args)
        extra = ""
        if kill:
            await fake.wait_until(lambda: len(fake.sent) >= n // 2, timeout=RUN_TIMEOUT)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            in_flight = (await outbox_counts(db_url))["sending"]
            down_at = time.monotonic()
            process = await spawn(*args)
            extra = f" (in flight at the kill: {in_flight}"
        await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
        label = "healthbot outbox, killed at 50%" if kill else "healthbot outbox"
        result = measure(fake, n, scale, label, extra)
        if kill:
            result["in_flight_at_kill"] = in_flight
            result["restart_seconds"] = round(_restart_gap(fake, down_at), 2)
            print(f"{'':<34} longest pause around the restart: {result['restart_seconds']} s)")
    return result


def _restart_gap(fake: FakeTelegram, down_at: float) -> float:
    """Seconds without a send around the kill (process start-up included)."""
    times = sorted(c.time for c in fake.calls if c.status == 200)
    return max(b - a for a, b in zip(times, times[1:], strict=False))


async def run_ptb(n: int, scale: float) -> dict:
    async with FakeTelegram(flood_limits=FloodLimits(scale=scale)) as fake:
        process = await spawn("--ptb", "--api", fake.bot_api_url, "--token", fake.token,
                              "--scale", str(scale), "--recipients", str(n))
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
        failures = out.decode().strip().splitlines()[-1] if out else "{}"
        result = measure(fake, n, scale, "plain PTB + AIORateLimiter", f"; errors {failures}")
        result["errors"] = json.loads(failures)
    return result


async def main(args: argparse.Namespace) -> None:
    if args.worker:
        await worker(args.db, args.api, args.token, args.scale)
        return
    if args.ptb:
        await ptb_loop(args.api, args.token, args.scale, args.recipients)
        return
    n, scale = args.recipients, args.scale
    print(f"{n} recipients ({n // 2} groups, {n - n // 2} private chats); FakeTelegram limits x{scale:g}"
          f" ({TELEGRAM_RATE * scale:g} msg/s overall, {GROUP_PER_MINUTE * scale:g}/min per group,"
          f" {scale:g} msg/s per private chat)", flush=True)
    results = [await run_healthbot(n, scale, kill=False), await run_healthbot(n, scale, kill=True),
               await run_ptb(n, scale)]
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=10.0, help="multiply every flood limit")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ptb", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    asyncio.run(main(parser.parse_args()))
