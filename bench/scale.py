"""Benchmark: several `healthbot run` workers on one PostgreSQL (+ Redis), issue 21.

1. Inbound throughput with 1, 2 and 3 workers: real `healthbot run` processes in webhook mode
   behind a local round-robin proxy (tests/fakes/round_robin.py); FakeTelegram delivers updates
   from ``--chats`` residents at once (each resident's messages in order, as Telegram does) and
   the workers answer through the Bot API. Prints updates/s and the ratio to one worker.
2. One campaign to ``--recipients`` Telegram chats (half groups, half private) through ONE bot
   token by 3 dispatcher processes, FakeTelegram's flood limits on (every rate x ``--scale``):
   with pacing shared through Redis, and without (each process paces alone). Prints achieved
   rate / allowed rate and the 429s the fake answered.

Needs PostgreSQL and Redis; the database is wiped.

    .venv/bin/python bench/scale.py --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench \
        --redis redis://127.0.0.1:6379/8 [--recipients 10000] [--scale 10] [--messages 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.broadcast import measure, prepare, run_until_outbox_empty  # noqa: E402
from tests.conftest import reset_postgres  # noqa: E402
from tests.fakes.round_robin import RoundRobinProxy  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, FloodLimits  # noqa: E402
from tests.test_workers import (  # noqa: E402
    TEXTS,
    deliver,
    free_port,
    start_worker,
    wait_for_port,
    worker_config,
)

DISPATCHERS = 3
IN_FLIGHT = 64
RUN_TIMEOUT = 900.0


# --- 1. inbound throughput ------------------------------------------------------------------


async def inbound(db_url: str, redis_url: str, workers: int, chats: int, messages: int) -> float:
    """Updates answered per second by ``workers`` processes behind the proxy."""
    from storage.db import upgrade

    await reset_postgres(db_url)
    await upgrade(db_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    async with FakeTelegram(flood_limits=None) as fake:
        ports = [free_port() for _ in range(workers)]
        async with RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports]) as proxy:
            logs = [tmp / f"w{n}.log" for n in range(workers)]
            procs = [await start_worker(
                worker_config(tmp, n, p, db_url, redis_url, fake, proxy), logs[n])
                for n, p in enumerate(ports)]
            try:
                for port, proc, log in zip(ports, procs, logs, strict=True):
                    await wait_for_port(port, proc, log)
                await fake.wait_until(lambda: fake.webhook is not None, timeout=60)
                per_chat = max(1, messages // chats)
                # Warm-up: every worker handles a first update (imports, pools, caches).
                for i in range(workers * 2):
                    await deliver(fake, 1 + i, TEXTS[0])

                async def resident(chat: int) -> None:
                    for k in range(per_chat):
                        await deliver(fake, chat, TEXTS[k % len(TEXTS)])

                started = time.perf_counter()
                await asyncio.gather(*(resident(5000 + c) for c in range(chats)))
                seconds = time.perf_counter() - started
            finally:
                for proc in procs:
                    proc.terminate()
                await asyncio.gather(*(proc.wait() for proc in procs))
    return chats * per_chat / seconds


# --- 2. one broadcast, three dispatchers ----------------------------------------------------


async def dispatcher_process(db_url: str, api_url: str, token: str, scale: float,
                             redis_url: str) -> None:
    """One dispatcher with the real Telegram sender until nothing is pending or sending."""
    from telegram import Bot

    from bot.channels.telegram_send import TelegramSender
    from scheduler.dispatcher import Dispatcher
    from scheduler.pacing import TELEGRAM_LIMITS
    from scheduler.shared_pacing import SharedPacing, connect_redis, token_namespace
    from storage.db import open_database

    db = open_database(db_url)
    bot = Bot(token, base_url=api_url)
    await bot.initialize()
    redis = connect_redis(redis_url) if redis_url else None
    pacing = (SharedPacing(redis, {"telegram": token_namespace("telegram", token)})
              if redis else None)
    dispatcher = Dispatcher(db, {"telegram": TelegramSender(bot)},
                            worker_id=f"bench-{os.getpid()}",
                            limits={"telegram": TELEGRAM_LIMITS.scaled(scale)},
                            max_in_flight=IN_FLIGHT, pacer_factory=pacing)
    await run_until_outbox_empty(db, dispatcher)
    await bot.shutdown()
    if redis is not None:
        await redis.aclose()
    await db.close()
    print(json.dumps(dispatcher.stats), flush=True)


async def broadcast(db_url: str, redis_url: str, n: int, scale: float, shared: bool) -> dict:
    await reset_postgres(db_url)
    queued = await prepare(db_url, n)
    assert queued == n, f"the campaign queued {queued} rows, expected {n}"
    # A fresh token per run: its Redis namespace holds no bucket left over from an earlier run.
    async with FakeTelegram(flood_limits=FloodLimits(scale=scale),
                            token=f"{40000 + os.getpid() % 1000}:BENCH-{uuid.uuid4().hex[:8]}"
                            ) as fake:
        env = os.environ | {"PTB_TIMEDELTA": "1"}
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--dispatcher", "--db", db_url,
            "--api", fake.bot_api_url, "--token", fake.token, "--scale", str(scale),
            "--redis", redis_url if shared else "", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE) for _ in range(DISPATCHERS)]
        outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)),
                                      RUN_TIMEOUT)
        label = ("3 dispatchers, pacing shared (Redis)" if shared
                 else "3 dispatchers, each pacing alone")
        result = measure(fake, n, scale, label)
        result["per_process"] = [json.loads(o.decode().strip().splitlines()[-1])
                                 for o, _ in outs]
        print(f"{'':<34} sent by each process: "
              f"{[s['sent'] for s in result['per_process']]}", flush=True)
    return result


async def main(args: argparse.Namespace) -> None:
    if args.dispatcher:
        await dispatcher_process(args.db, args.api, args.token, args.scale, args.redis)
        return
    print(f"{os.cpu_count()} CPU cores; PostgreSQL {args.db.split('@')[-1]}; Redis {args.redis}",
          flush=True)
    rates: list[float] = []
    for workers in (1, 2, 3) if "inbound" in args.parts else ():
        rate = await inbound(args.db, args.redis, workers, args.chats, args.messages)
        rates.append(rate)
        print(f"inbound, {workers} worker(s): {rate:6.1f} updates/s "
              f"(x{rate / rates[0]:.2f} of one worker)", flush=True)
    if "broadcast" not in args.parts:
        return
    print(f"{args.recipients} recipients, FakeTelegram limits x{args.scale:g} "
          f"({30 * args.scale:g} msg/s for the bot token)", flush=True)
    results = [await broadcast(args.db, args.redis, args.recipients, args.scale, shared=True),
               await broadcast(args.db, args.redis, args.recipients, args.scale, shared=False)]
    if args.json:
        print(json.dumps({"inbound": rates, "broadcast": results}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("HEALTHBOT_TEST_DATABASE_URL", ""))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=10.0, help="multiply every flood limit")
    parser.add_argument("--chats", type=int, default=60, help="residents writing at once")
    parser.add_argument("--messages", type=int, default=600, help="inbound updates per run")
    parser.add_argument("--parts", default="inbound,broadcast", help="what to run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dispatcher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if not parsed.db.startswith("postgresql"):
        parser.error("--db must be a PostgreSQL URL (several workers need PostgreSQL)")
    asyncio.run(main(parsed))
