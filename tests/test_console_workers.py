"""The console behind a load balancer (docs/deploy.md): two workers on one database (and Redis).

Each test runs a first worker (with Telegram and the outbox dispatcher, tests/console_helpers.py)
and a second web server on the same database, the same `cookie_secret` and, in the Redis runs,
the same Redis; one browser sends its requests to either worker, as a round-robin proxy would.
The sign-in limits are counted together (bot.console.limits: Redis when configured, else the
database; the database too while Redis does not answer), and the notice after an action is shown
by whichever worker serves the next page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app import build_bot, build_services, build_web_app
from storage.models import ConsoleAttempt, ConsoleCode
from tests.console_helpers import (
    ADMIN,
    NURSE,
    ConsoleStack,
    console_stack,
    fake_fixture,  # noqa: F401 - a fixture
)
from tests.redis_server import redis_for_test
from tests.web_visitor import free_port

BACKENDS = ["database", "redis", "redis-down"]


@asynccontextmanager
async def second_worker(first: ConsoleStack, clock: Any) -> AsyncIterator[str]:
    """Another web server with the console, same settings and database; its URL."""
    services = build_services(first.bot.services.settings, clock=clock)
    services.extras["dispatcher"] = first.stack.dispatcher  # codes go out at once
    app = build_web_app(build_bot(services))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await services.db.close()


@asynccontextmanager
async def redis_url(backend: str) -> AsyncIterator[str]:
    if backend == "database":
        yield ""
    elif backend == "redis-down":
        yield "redis://127.0.0.1:1/0"  # nothing listens there: the database counts
    else:
        async with redis_for_test() as server:
            try:
                yield server.url
            finally:
                async for key in server.client.scan_iter(match="healthbot:console:*"):
                    await server.client.delete(key)


@pytest.fixture(params=BACKENDS)
async def workers(request: pytest.FixtureRequest, settings: Any, fake: Any,
                  clock: Any) -> AsyncIterator[tuple[ConsoleStack, str, str]]:
    """(the first worker, its URL, the second worker's URL); `workers[0].backend` names where
    the limits are counted."""
    async with redis_url(request.param) as url:
        shared = replace(settings, redis=replace(settings.redis, url=url),
                         web=replace(settings.web, cookie_secret=f"two-workers-{free_port()}"))
        async with console_stack(shared, fake, clock) as first, \
                second_worker(first, clock) as second_url:
            first.backend = request.param  # type: ignore[attr-defined]
            yield first, first.url, second_url


async def attempts_in_database(first: ConsoleStack) -> int:
    async with first.bot.services.db.sessions() as session:
        stmt = select(func.count()).select_from(ConsoleAttempt)
        return (await session.execute(stmt)).scalar_one()


async def a_code_asked(first: ConsoleStack) -> tuple[Any, str, str]:
    """A browser that asked for the nurse's code: (the browser, the code, a wrong code)."""
    client = await first.client()
    await first.request_code(client, NURSE.handle)
    code = await first.code_for(NURSE, 0)
    return client, code, "000000" if code != "000000" else "111111"


async def test_five_wrong_codes_over_two_workers_lock_the_member(  # noqa: ANN001
        workers, clock) -> None:
    first, a, b = workers
    client, code, wrong = await a_code_asked(first)
    for url in (a, b, a, b, a):  # three on one worker, two on the other: five together
        client.url = url
        assert (await client.post("/console/signin/code", {"code": wrong})).status == 401
    for url in (a, b):
        client.url = url
        assert (await client.post("/console/signin/code", {"code": code})).status == 429
    # A new browser on the other worker gets a new code, but the member stays locked and the
    # new code is spent by the refusal: no guessing goes on over fresh codes.
    second = await first.client()
    second.url = b
    before = len(first.fake.sent_to(int(NURSE.telegram_id)))
    await first.request_code(second, NURSE.handle)
    fresh = await first.code_for(NURSE, before)
    assert (await second.post("/console/signin/code", {"code": fresh})).status == 429
    async with first.bot.services.db.sessions() as session:
        pending = (await session.execute(select(ConsoleCode).where(
            ConsoleCode.member == NURSE.name, ConsoleCode.used_at.is_(None)))).scalars().all()
    assert pending == []
    counted_in_db = await attempts_in_database(first)
    assert (counted_in_db == 0) == (first.backend == "redis"), counted_in_db
    clock.advance(minutes=16)  # the window has passed: a new code works, on either worker
    third = await first.client()
    third.url = a
    before = len(first.fake.sent_to(int(NURSE.telegram_id)))
    await first.request_code(third, NURSE.handle)
    code = await first.code_for(NURSE, before)
    third.url = b
    assert (await third.post("/console/signin/code", {"code": code})).status == 200


async def test_parallel_guesses_on_both_workers_get_five_tries_in_all(  # noqa: ANN001
        workers) -> None:
    first, a, b = workers
    client, code, wrong = await a_code_asked(first)
    csrf = client.last.csrf
    other = await first.client()  # the same browser's cookies, its requests sent to the other
    other.http.cookie_jar.update_cookies({"hb_console_flow": client.cookie("hb_console_flow")})
    client.url, other.url = a, b
    answers = await asyncio.gather(*(
        browser.post("/console/signin/code", {"code": wrong, "csrf": csrf})
        for _ in range(6) for browser in (client, other)))
    statuses = sorted(p.status for p in answers)
    assert statuses == [401] * 5 + [429] * 7, statuses


async def test_code_requests_over_two_workers_are_counted_together(workers) -> None:  # noqa: ANN001
    first, a, b = workers
    for n, url in enumerate((a, b, a, b)):  # 3 codes per member in 15 minutes, all workers
        client = await first.client()
        client.url = url
        page = await first.request_code(client, NURSE.handle)
        assert page.status == 200 and "/console/signin/code" in page.url
        if n < 3:
            await first.code_for(NURSE, n)
    async with first.bot.services.db.sessions() as session:
        codes = (await session.execute(select(func.count()).select_from(ConsoleCode).where(
            ConsoleCode.member == NURSE.name))).scalar_one()
    assert codes == 3


async def test_a_right_code_is_not_counted_as_a_failure(workers) -> None:  # noqa: ANN001
    first, _a, b = workers
    for _ in range(3):  # three sign-ins in a row, each through the other worker's code form
        client = await first.client()
        before = len(first.fake.sent_to(int(ADMIN.telegram_id)))
        await first.request_code(client, ADMIN.handle)
        code = await first.code_for(ADMIN, before)
        client.url = b
        assert (await client.post("/console/signin/code", {"code": code})).status == 200
    if first.backend != "redis":  # only the code requests are counted, per member and address
        async with first.bot.services.db.sessions() as session:
            kinds = (await session.execute(select(ConsoleAttempt.kind))).scalars().all()
        assert sorted(kinds) == ["code_address"] * 3 + ["code_member"] * 3


async def test_the_notice_after_an_action_is_shown_by_the_other_worker(  # noqa: ANN001
        workers) -> None:
    first, a, b = workers
    admin = await first.sign_in(ADMIN)
    admin.url = a
    await admin.get("/console/data")
    moved = await admin.post("/console/data/999/erase", {}, follow=False)  # no confirmation
    assert moved.status == 303
    notice = "đánh dấu ô xác nhận"
    admin.url = b
    shown = await admin.get("/console/data")
    assert notice in shown.text
    for url in (a, b):  # once only
        admin.url = url
        assert notice not in (await admin.get("/console/data")).text
    # The notice cookie is bound to its session: another member's browser does not show it.
    nurse = await first.sign_in(NURSE)
    admin.url = a
    await admin.get("/console/data")
    await admin.post("/console/data/999/erase", {}, follow=False)
    stolen = admin.cookie("hb_console_flash")
    assert stolen
    nurse.http.cookie_jar.update_cookies({"hb_console_flash": stolen})
    nurse.url = b
    assert notice not in (await nurse.get("/console/")).text
