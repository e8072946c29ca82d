"""Three `healthbot run` workers on one PostgreSQL (+ Redis) behind a round-robin proxy.

FakeTelegram delivers webhook updates for many residents at once (one chat's updates in order, as
Telegram does); the proxy spreads them over the workers, so consecutive messages of one resident
land on different processes. A webhook answers once the update is in the inbox, so the test waits
for the inbox to be drained before it reads the replies. One worker is SIGKILLed mid-run; its
claims are not renewed, so after the (short, for the test) lease the survivors take its chats
over, with the replies it had stored. Then:
- every update is answered, each once, except the in-flight window: a step whose row the killed
  worker had handled (replies stored, possibly sent) but not finished may have its replies (or the
  first of them) sent twice, right after each other; nothing else;
- each resident's replies come in the order of their messages (checked against a reference chat).

Needs HEALTHBOT_TEST_DATABASE_URL (PostgreSQL) and a Redis (tests/redis_server.py); skips without.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_ENV, reset_postgres
from tests.fakes.round_robin import RoundRobinProxy
from tests.fakes.telegram_api import FakeTelegram
from tests.redis_server import RedisForTest, redis_for_test

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
CHATS = 24
TEXTS = ["/start", "sốt xuất huyết", "tay chân miệng", "bệnh sởi", "thẻ bảo hiểm y tế",
         "ngộ độc thực phẩm"]
SECRET = "workers-secret"
STARTUP_SECONDS = 60.0
REDELIVER_PAUSE = 0.2
MAX_DELIVERIES = 100
LEASE_SECONDS = "5"  # HEALTHBOT_INBOX_LEASE_SECONDS for the workers: a prompt takeover
DRAIN_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_config(tmp_path: Path, n: int, port: int, db_url: str, redis_url: str,
                  fake: FakeTelegram, proxy: RoundRobinProxy) -> Path:
    path = tmp_path / f"worker{n}.toml"
    path.write_text(
        '[station]\nname = "Trạm Y tế phường Thử Nghiệm"\nward = "Phường Thử Nghiệm"\n'
        'address = "Số 2 đường Thử Nghiệm"\nphone = "024 3756 1234"\n\n'
        f'[database]\nurl = "{db_url}"\n\n[web]\nport = {port}\n\n'
        f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"\n'
        f'mode = "webhook"\nwebhook_url = "{proxy.url}/telegram/webhook"\n'
        f'webhook_secret = "{SECRET}"\n\n[redis]\nurl = "{redis_url}"\n',
        encoding="utf-8",
    )
    return path


async def start_worker(config: Path, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEALTHBOT_", "TELEGRAM_"))}
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the worker
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT,
            env=env | {"PTB_TIMEDELTA": "1", "PYTHONPATH": str(ROOT),
                       "HEALTHBOT_INBOX_LEASE_SECONDS": LEASE_SECONDS},
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_SECONDS
    while loop.time() < deadline:
        if proc.returncode is not None:
            pytest.fail(f"a worker exited: {log.read_text()[-3000:]}")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    pytest.fail(f"a worker did not start: {log.read_text()[-3000:]}")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    url = os.environ.get(PG_ENV, "")
    if not url:
        pytest.skip(f"several workers need PostgreSQL: set {PG_ENV}")
    await reset_postgres(url)
    from storage.db import upgrade

    await upgrade(url)
    yield url


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisForTest]:
    async with redis_for_test() as server:
        yield server


async def deliver(fake: FakeTelegram, chat_id: int, text: str) -> dict[str, Any]:
    """Push one message; like Telegram, deliver it again (same update id) until answered 2xx."""
    update = await fake.push_message(chat_id, chat_id, text, first_name="Lan")
    status = next(d.status for d in reversed(fake.webhook_deliveries)
                  if d.update["update_id"] == update["update_id"])
    tries = 1
    while not 200 <= status < 300:
        assert tries < MAX_DELIVERIES, f"update {update['update_id']} never accepted"
        await asyncio.sleep(REDELIVER_PAUSE)
        assert fake.webhook is not None
        status, _ = await fake.post_json(
            fake.webhook["url"], json.dumps(update).encode(),
            {"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        tries += 1
    return update


async def resident(fake: FakeTelegram, chat_id: int) -> list[str]:
    """The resident's messages one after another (each once accepted); their update keys."""
    return [str((await deliver(fake, chat_id, text))["update_id"]) for text in TEXTS]


async def inbox_rows(url: str, sql: str, **params: Any) -> list[Any]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def wait_until_drained(url: str, timeout: float = DRAIN_SECONDS) -> None:
    """Every update in the inbox was dealt with (its replies sent), by whichever worker."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    left: list[Any] = []
    while loop.time() < deadline:
        left = await inbox_rows(url, "SELECT count(*) FROM processed_updates"
                                     " WHERE status IN ('received', 'handled')")
        if left[0][0] == 0:
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"the inbox still holds {left[0][0]} unfinished updates")


def replies(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text or m.caption or "" for m in fake.sent_to(chat_id)]


async def test_three_workers_answer_each_update_once_in_order_through_a_kill(
    tmp_path: Path, postgres_url: str, redis_server: RedisForTest
) -> None:
    async with FakeTelegram(flood_limits=None) as fake:
        ports = [free_port() for _ in range(WORKERS)]
        async with RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports]) as proxy:
            logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
            procs = [
                await start_worker(
                    worker_config(tmp_path, n, port, postgres_url, redis_server.url, fake, proxy),
                    logs[n],
                )
                for n, port in enumerate(ports)
            ]
            try:
                for port, proc, log in zip(ports, procs, logs, strict=True):
                    await wait_for_port(port, proc, log)
                await fake.wait_until(lambda: fake.webhook is not None, timeout=STARTUP_SECONDS)

                # A reference resident, one message at a time: what each step answers.
                reference: list[list[str]] = []
                for text in TEXTS:
                    before = len(replies(fake, 1))
                    await deliver(fake, 1, text)
                    await wait_until_drained(postgres_url, timeout=60)
                    reference.append(replies(fake, 1)[before:])
                assert all(reference), "every message of the reference resident was answered"

                victim = procs[1]

                # Killed once a third of the updates were accepted: webhooks answer before the
                # handling, so the replies lag behind and the victim holds chats at that moment,
                # while the rest of the traffic still comes (some of it to the dead worker).
                accepted_before = len(fake.webhook_deliveries)

                async def kill_mid_run() -> list[Any]:
                    await fake.wait_until(
                        lambda: len(fake.webhook_deliveries) - accepted_before
                        >= CHATS * len(TEXTS) // 3, timeout=120)
                    victim.send_signal(signal.SIGKILL)
                    assert await victim.wait() == -signal.SIGKILL
                    # What the killed worker held, read at once (its claims were renewed less
                    # than a lease ago, so no survivor has taken them yet): only the rows it had
                    # handled but not finished may be answered twice.
                    return await inbox_rows(
                        postgres_url,
                        "SELECT chat_id, update_key, status FROM processed_updates"
                        " WHERE claimed_by = :worker AND status IN ('received', 'handled')",
                        worker=f"{socket.gethostname()}:{ports[1]}",
                    )

                killer = asyncio.create_task(kill_mid_run())
                chats = [2000 + i for i in range(CHATS)]
                keys = dict(zip(chats, await asyncio.wait_for(
                    asyncio.gather(*(resident(fake, c) for c in chats)), timeout=300
                ), strict=True))
                held = await killer
                in_flight = {(chat, key) for chat, key, status in held if status == "handled"}
                await wait_until_drained(postgres_url)  # the survivors took its chats over
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.terminate()
                for proc in procs:
                    try:
                        await asyncio.wait_for(proc.wait(), 30)
                    except TimeoutError:
                        proc.kill()

            expected = [t for step in reference for t in step]
            resent = 0
            for chat in chats:
                got = replies(fake, chat)
                if got == expected:
                    continue
                # Only a step the killed worker held handled-but-unfinished may come twice: its
                # replies (all, or the first k it had sent) again right before themselves.
                resends = [
                    (i, k) for i, step in enumerate(reference)
                    if (str(chat), keys[chat][i]) in in_flight
                    for k in range(1, len(step) + 1)
                    if got == [t for prior in reference[:i] for t in prior] + step[:k]
                    + [t for later in reference[i:] for t in later]
                ]
                assert resends, f"chat {chat}: replies missing, out of order or duplicated: {got}"
                resent += 1
            assert resent <= len(in_flight)
            print(f"rows the killed worker held: {len(held)} ({len(in_flight)} handled, in flight);"
                  f" chats with a resent step: {resent};"
                  f" requests the proxy answered 502: {proxy.broken}")
            served = [proxy.served[f"http://127.0.0.1:{p}"] for p in ports]
            assert all(served), f"every worker took updates: {served}"
            assert proxy.refused[f"http://127.0.0.1:{ports[1]}"] > 0, "the kill was mid-run"
