"""Inbound throughput: healthbot's Telegram webhook vs a bare python-telegram-bot echo bot.

Both bots run in this process, each behind its own aiohttp webhook route, and talk to the same
FakeTelegram (started as a separate process so it does not share this event loop). The load
generator POSTs N private-chat updates to each webhook (questions with and without diacritics, and
menu taps) from many residents at a fixed concurrency; each resident's messages go in order. The
bare bot's webhook returns after handling; healthbot's returns once the update is committed to its
inbox (docs/inbox.md), and its run ends only when the inbox is drained (every update handled and
answered), so msg/s compares handled messages, while healthbot's latency is the acknowledgement.

    /work/venv/bin/python bench/inbound.py [--messages 5000] [--concurrency 32] [--database-url URL]

Prints throughput (msg/s) and p50/p99 latency for both, and their ratio. healthbot always starts on
an empty database: a fresh SQLite file, or with a PostgreSQL URL a throwaway database created beside
the given one and dropped afterwards (a reused database would skip the updates it already saw as
redeliveries and know every resident, which flatters the figure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update  # noqa: E402
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import build_bot, build_services  # noqa: E402
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, start_telegram  # noqa: E402
from bot.config import load_settings  # noqa: E402
from storage.db import upgrade  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-secret"
QUESTIONS = (
    "sot xuat huyet co lay khong",
    "Sốt xuất huyết có lây không?",
    "lich tiem chung cho tre",
    "huyết áp cao nên ăn gì",
    "tram y te mo cua may gio",
    "bhyt ho gia dinh bao nhieu tien",
    "tay chan mieng phong the nao",
    "how do I prevent dengue",
)
TAPS = ("topics", "t:dengue", "e:dengue.spread", "menu", "t:vaccination", "e:dengue.prevention")
TAP_SHARE = 0.4
USERS = 500
WARMUP = 50


@dataclass
class Result:
    name: str
    messages: int
    seconds: float
    latencies: list[float]
    errors: int

    def line(self) -> str:
        q = statistics.quantiles(self.latencies, n=100)
        return (
            f"{self.name:<10} {self.messages / self.seconds:8.1f} msg/s   "
            f"p50 {q[49] * 1000:7.1f} ms   p99 {q[98] * 1000:7.1f} ms   "
            f"errors {self.errors}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the workload ---------------------------------------------------------------------------------


async def make_updates(control: str, count: int, first_user: int, seed: int) -> list[dict]:
    """Updates as Telegram would send them; taps get a live callback id from the fake."""
    rng = random.Random(seed)
    updates: list[dict] = []
    async with aiohttp.ClientSession() as http:
        for i in range(count):
            user = first_user + i % USERS
            if rng.random() < TAP_SHARE:
                body = {"chat_id": user, "user_id": user, "data": rng.choice(TAPS), "message_id": 1}
                async with http.post(f"{control}/_fake/push_callback", json=body) as resp:
                    updates.append(await resp.json())
            else:
                updates.append(message_update(i, user, rng.choice(QUESTIONS)))
    return updates


def message_update(update_id: int, user: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id + 1,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Dân"},
            "from": {"id": user, "is_bot": False, "first_name": "Dân", "language_code": "vi"},
            "text": text,
        },
    }


SETTLE: dict[str, Callable[[], Awaitable[None]]] = {}  # healthbot: wait until its inbox drained


async def drive(name: str, url: str, updates: list[dict], concurrency: int) -> Result:
    """POST every update; one resident's updates in order, `concurrency` requests in flight."""
    by_user: dict[int, list[dict]] = {}
    for update in updates:
        chat = (update.get("message") or update["callback_query"]["message"])["chat"]["id"]
        by_user.setdefault(chat, []).append(update)
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def resident(items: list[dict]) -> None:
            nonlocal errors
            for update in items:
                async with gate:
                    started = time.perf_counter()
                    async with http.post(url, data=json.dumps(update), headers=headers) as resp:
                        await resp.read()
                        errors += resp.status != 200
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(resident(items) for items in by_user.values()))
        if name in SETTLE:
            await SETTLE[name]()
        seconds = time.perf_counter() - started
    return Result(name, len(updates), seconds, latencies, errors)


# -- the two bots ---------------------------------------------------------------------------------


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    port = free_port()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}{WEBHOOK_PATH}"


async def start_healthbot(
    api: str, database_url: str
) -> tuple[web.AppRunner, str, Callable[[], Awaitable[None]]]:
    await upgrade(database_url)
    base = load_settings(None, env={})
    telegram = replace(
        base.telegram, token=TOKEN, api_base_url=api, mode="webhook", webhook_secret=SECRET
    )
    settings = replace(base, telegram=telegram, database=replace(base.database, url=database_url))
    services = build_services(settings)
    app = web.Application()
    stop = await start_telegram(build_bot(services), app)
    SETTLE["healthbot"] = lambda: services.extras["inboxes"]["telegram"].drain(timeout=3600)
    runner, url = await serve(app)

    async def close() -> None:
        await stop()
        await runner.cleanup()
        await services.db.close()

    return runner, url, close


async def echo_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


async def echo_tap(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.get_bot().send_message(query.message.chat.id, query.data or "")


async def start_echo(api: str) -> tuple[web.AppRunner, str, Callable[[], Awaitable[None]]]:
    """The bare PTB bot, webhook-style: parse the update, process it, answer."""
    application = Application.builder().token(TOKEN).base_url(api).updater(None).build()
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_tap))
    await application.initialize()

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await application.process_update(Update.de_json(await request.json(), application.bot))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, webhook)
    runner, url = await serve(app)

    async def close() -> None:
        await runner.cleanup()
        await application.shutdown()

    return runner, url, close


# -- main -----------------------------------------------------------------------------------------


async def start_fake() -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--port",
        str(port),
        "--token",
        TOKEN,
        "--no-flood-limits",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    await process.stdout.readline()  # "FakeTelegram listening on ..."
    return process, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def fresh_database(given: str | None) -> AsyncIterator[str]:
    """An empty database for one run (see the module docstring)."""
    if given is None or not given.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as tmp:
            yield given or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    url = make_url(given)
    name = f"healthbot_bench_{os.getpid()}"
    server = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with server.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with server.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await server.dispose()


async def main(args: argparse.Namespace) -> None:
    fake, control = await start_fake()
    api = f"{control}/bot"
    try:
        async with fresh_database(args.database_url) as database_url:
            results = []
            for name, starter, first_user in (
                ("echo", lambda: start_echo(api), 100_000),
                ("healthbot", lambda: start_healthbot(api, database_url), 200_000),
            ):
                warmup = await make_updates(control, WARMUP, first_user + 50_000, 1)
                updates = await make_updates(control, args.messages, first_user, 2)
                _runner, url, close = await starter()
                try:
                    await drive(name, url, warmup, args.concurrency)
                    results.append(await drive(name, url, updates, args.concurrency))
                finally:
                    await close()
        db = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(
            f"{args.messages} private updates per bot, concurrency {args.concurrency}, "
            f"{int(TAP_SHARE * 100)}% menu taps, healthbot on {db}"
        )
        for result in results:
            print(result.line())
        echo, ours = results
        ratio = (ours.messages / ours.seconds) / (echo.messages / echo.seconds)
        print(f"healthbot / echo throughput: {ratio:.2f} (aim: >= 0.50)")
    finally:
        fake.terminate()
        await fake.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    asyncio.run(main(parser.parse_args()))
