"""Benchmark: many web residents at once while the outbox delivers to web pages.

N residents (each its own cookie) send M messages each over real HTTP to the web chat, all at
the same time, while the outbox dispatcher stores K deliveries for web visitors. Prints the HTTP
statuses, latency percentiles, messages per second, the rows delivered, and how many times the
log said "database is locked". Run on the embedded SQLite (default) and on PostgreSQL:

    .venv/bin/python bench/web_chat.py [--residents 50] [--messages 10] [--deliveries 500]
        [--database postgresql+asyncpg://postgres@127.0.0.1:5432/test_h5] [--no-gate]

`--no-gate` lets every web write run at once, as before issue 14, to show what the gate prevents.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, CookieJar, web  # noqa: E402

from bot.app import build_bot, build_services, build_web_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.model import Outbound  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import upgrade  # noqa: E402


class LockedCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.locked = 0
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        self.errors += record.levelno >= logging.ERROR
        self.locked += "database is locked" in text


async def main(args: argparse.Namespace) -> None:
    url = args.database
    if not url:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    elif url.startswith("postgresql"):
        from tests.conftest import reset_postgres

        await reset_postgres(url)
    await upgrade(url)
    settings = load_settings(None, env={})
    settings = replace(
        settings,
        database=replace(settings.database, url=url),
        web=replace(settings.web, messages_per_minute=10**6, address_messages_per_minute=10**6),
    )
    counter = LockedCounter()
    logging.getLogger().addHandler(counter)
    services = build_services(settings)
    bot = build_bot(services)
    app = build_web_app(bot)
    if args.no_gate:  # what the web chat did before: every request writes at once
        services.extras["web_chat"].gate._slots = asyncio.Semaphore(10**6)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"

    # Outbox rows for web visitors, delivered while the residents write.
    async with services.db.sessions() as session, session.begin():
        for n in range(args.deliveries):
            await services.deliverer.enqueue(
                session,
                channel="web",
                chat_id=f"{n % 97:032x}",
                message=Outbound(text=f"Tin {n}"),
                dedupe_key=f"bench:{n}",
                priority=outbox.PRIORITY_BROADCAST,
            )
    dispatcher = Dispatcher(services.db, services.extras["senders"], services.clock)
    stop = asyncio.Event()

    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def resident(n: int) -> None:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            for i in range(args.messages):
                started = time.perf_counter()
                async with http.post(
                    f"{base}/api/message", json={"text": f"sốt xuất huyết {n} {i}"}
                ) as res:
                    await res.read()
                    statuses[res.status] += 1
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    dispatching = asyncio.create_task(dispatcher.run_forever(stop))
    await asyncio.gather(*(resident(n) for n in range(args.residents)))
    elapsed = time.perf_counter() - started
    for _ in range(300):
        async with services.db.sessions() as session:
            counts = await outbox.status_counts(session) if hasattr(outbox, "status_counts") else {}
        if not counts or counts.get("pending", 0) + counts.get("sending", 0) == 0:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await dispatching
    await runner.cleanup()
    await services.db.close()
    total = sum(statuses.values())
    latencies.sort()
    print(f"database: {services.db.dialect}")
    print(f"requests: {total} from {args.residents} residents x {args.messages} messages")
    print(
        f"statuses: {dict(sorted(statuses.items()))}  (5xx: "
        f"{sum(v for k, v in statuses.items() if k >= 500)})"
    )
    print(f"throughput: {total / elapsed:.1f} messages/s over {elapsed:.1f} s")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print(
        f"outbox deliveries to web pages: {dispatcher.stats['sent']} sent of {args.deliveries}, "
        f"{dispatcher.stats['retried']} retried, {dispatcher.stats['failed']} failed"
    )
    print(f"'database is locked' in the log: {counter.locked}; errors logged: {counter.errors}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--database", default="")
    parser.add_argument("--no-gate", action="store_true", help="let all writes run at once")
    asyncio.run(main(parser.parse_args()))
