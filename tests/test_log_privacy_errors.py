"""Errors that carry personal values or secrets in their own message are logged without them.

The log filter (`bot.log_privacy`, installed on every handler by `healthbot run`) is given real
errors, raised by the real libraries against a real database or a local HTTP server:

- a database refusing the insert of a staff card (name, phone, complaint): PostgreSQL's message
  quotes the whole failing row in its DETAIL; a cast of a complaint to a number quotes the text;
- a platform refusing a bot token: python-telegram-bot's InvalidToken names the token, aiohttp's
  and httpx's status errors carry the API URL, which holds the token (`/bot<TOKEN>/getMe`);
- a malformed request to the web server: aiohttp logs the raw request line, with the one-time
  download token and the OAuth code in it;
- the access log: a download link, an OAuth callback with its code and state.

Before: the row, the complaint, the tokens, the download token and the OAuth code were in the log.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
from aiohttp import web
from sqlalchemy import Integer, bindparam, text
from telegram import Bot
from telegram.error import InvalidToken

from bot import log_privacy
from bot.config import load_settings
from bot.report.downloads import add_download_route
from storage.db import open_database
from storage.models import Outbox
from tests.faults.process import free_port, serve_every_path
from tests.faults.test_log_privacy import heal, inject

PHONE = "0912345678"
NAME = "Nguyễn Thị Hoa"
COMPLAINT = "Rác thải sau chợ Hoà Bình bốc mùi, ruồi bay vào nhà tôi"
# Token formats the token pattern alone does not catch (a Zalo Bot token's tail is short).
TELEGRAM_TOKEN = "5550001111:PLANTED-telegram-token"
ZALO_BOT_TOKEN = "9990001111222233334:PLANTED-zalo-bot"
WEBHOOK_SECRET = "PLANTED-webhook-secret-42"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose handler has the filter, as `healthbot run` installs it (bot/cli.py)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(f"bot.privacy_test_{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    log_privacy.install(logger)
    yield logger, stream
    logger.removeHandler(handler)


async def test_a_refused_insert_of_a_staff_card_is_logged_without_the_card(
    db_url: str, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = captured
    db = open_database(db_url)
    await inject(db_url, "outbox")  # a CHECK violation (PostgreSQL) or a trigger (SQLite)
    try:
        async with db.sessions() as session:
            card = {"text": f"Góp ý mới: {COMPLAINT}\nNgười gửi: {NAME}, {PHONE}"}
            session.add(Outbox(dedupe_key="card:1", channel="telegram", chat_id="-100123",
                               payload=card))  # fmt: skip
            with pytest.raises(Exception) as raised:
                await session.flush()
        # The dispatcher's and the engine's way (logger.exception), and an error as an argument.
        logger.error("outbox row could not be queued", exc_info=raised.value)
        logger.error("queueing failed: %s", raised.value)
    finally:
        await heal(db_url, "outbox")
        await db.close()
    logged = stream.getvalue()
    for value in (PHONE, PHONE[1:], NAME, COMPLAINT, "ruồi bay"):
        assert value not in logged, logged
    # What the operator needs stays: the error's class, where, and why.
    assert "IntegrityError" in logged and "INSERT INTO outbox" in logged, logged
    if db_url.startswith("postgresql"):
        assert "SQLSTATE 23514" in logged and 'check constraint "injected_fault"' in logged
    else:
        assert "injected fault" in logged


async def test_postgresql_errors_that_quote_a_value_are_logged_without_it(
    db_url: str, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite casts any text to a number without an error")
    logger, stream = captured
    db = open_database(db_url)
    try:
        async with db.engine.connect() as conn:
            # Server side (SQLSTATE 22P02): 'invalid input syntax for type integer: "Rác thải…"'
            with pytest.raises(Exception) as server:
                await conn.execute(text("SELECT CAST(CAST(:v AS text) AS integer)"),
                                   {"v": COMPLAINT})  # fmt: skip
            logger.error("the query failed", exc_info=server.value)
            await conn.rollback()
            # Client side, in the driver: "invalid input for query argument $1: '0912345678' …"
            typed = text("SELECT :n + 1").bindparams(bindparam("n", type_=Integer))
            with pytest.raises(Exception) as client:
                await conn.execute(typed, {"n": PHONE})
            logger.error("the query failed", exc_info=client.value)
    finally:
        await db.close()
    logged = stream.getvalue()
    for value in (COMPLAINT, "Rác thải", PHONE, PHONE[1:]):
        assert value not in logged, logged
    assert "SQLSTATE 22P02" in logged and "SQLSTATE 22000" in logged, logged


async def refusing_api() -> tuple[web.AppRunner, str]:
    """A platform API that refuses every token: 401 with Telegram's JSON answer."""

    async def refuse(_request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    return await serve_every_path(refuse)


async def test_platform_errors_are_logged_without_the_bot_tokens(
    tmp_path: Path, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = captured
    config = tmp_path / "c.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TELEGRAM_TOKEN}"\nmode = "webhook"\n'
        f'webhook_secret = "{WEBHOOK_SECRET}"\n[zalo_bot]\ntoken = "{ZALO_BOT_TOKEN}"\n',
        encoding="utf-8",
    )
    log_privacy.register_settings(load_settings(config, env={}))  # as `healthbot run` does
    runner, base = await refusing_api()
    closed = f"http://127.0.0.1:{free_port()}"
    errors: list[BaseException] = []
    try:
        bot = Bot(TELEGRAM_TOKEN, base_url=f"{base}/bot")
        with pytest.raises(InvalidToken) as refused:  # "The token `…` was rejected by the server."
            await bot.initialize()
        errors.append(refused.value)
        async with aiohttp.ClientSession() as http:
            for url in (f"{base}/bot{ZALO_BOT_TOKEN}/getMe", f"{closed}/bot{ZALO_BOT_TOKEN}/getMe"):
                with pytest.raises(aiohttp.ClientError) as failed:
                    async with http.post(url, raise_for_status=True):
                        pass
                errors.append(failed.value)
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{base}/bot{TELEGRAM_TOKEN}/setWebhook?secret_token="
                                       f"{WEBHOOK_SECRET}")  # fmt: skip
            with pytest.raises(httpx.HTTPStatusError) as status:
                answer.raise_for_status()
            errors.append(status.value)
    finally:
        await runner.cleanup()
    for error in errors:
        logger.exception("a platform call failed", exc_info=error)
        logger.warning("a platform call failed: %s", error)
    logged = stream.getvalue()
    for secret in (TELEGRAM_TOKEN, ZALO_BOT_TOKEN, WEBHOOK_SECRET, "PLANTED"):
        assert secret not in logged, logged
    # The operator still sees which call failed and how.
    assert "/getMe" in logged and "401" in logged and "InvalidToken" in logged, logged
    assert "ClientConnectorError" in logged and "HTTPStatusError" in logged, logged


async def test_the_access_log_names_routes_and_never_tokens_codes_or_states(
    tmp_path: Path, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = captured
    server_log = logging.getLogger("aiohttp.server")  # where aiohttp reports malformed requests
    for handler in logger.handlers:
        server_log.addHandler(handler)
    app = web.Application()
    add_download_route(app, tmp_path)
    runner = web.AppRunner(app, access_log=logger, access_log_class=log_privacy.PrivateAccessLogger)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    link = secrets.token_urlsafe(32)  # a one-time report link's token
    code, state = "OAUTHCODE-" + secrets.token_hex(8), "STATE-" + secrets.token_hex(8)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/tai-bao-cao/{link}?code={code}") as r:
                assert r.status == 410  # no such report: the link is used up
            async with http.get(f"http://127.0.0.1:{port}/zalo/oa/callback",
                                params={"code": code, "state": state}) as r:  # fmt: skip
                assert r.status == 404
        # A request line with a stray control byte: aiohttp logs the line it could not parse.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /tai-bao-cao/{link}?code={code}\x7f HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        await writer.drain()
        assert (await reader.read(100)).startswith(b"HTTP/1.0 400")
        writer.close()
        await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
        for handler in logger.handlers:
            server_log.removeHandler(handler)
    logged = stream.getvalue()
    for secret in (link, code, state):
        assert secret not in logged, logged
    assert "GET /tai-bao-cao/{token}?code 410" in logged, logged
    assert "GET /zalo/oa/callback?code&state 404" in logged, logged
    assert "Error handling request" in logged and "Invalid char in url query" in logged, logged
    assert "access log line failed" not in logged, logged


def test_a_parse_error_on_what_a_resident_typed_is_logged_without_the_text(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    # A handler bug that parses a free text as a number or a date: Python's error quotes the text.
    from datetime import date, datetime

    logger, stream = captured
    typed = "Cháu sinh ngày hai mốt tháng tám, sốt cao từ đêm qua"
    parsers = (int, float, date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y"))
    for parse in parsers:
        try:
            parse(typed)
        except ValueError:
            logger.exception("handler failed for a web update")  # bot/engine.py's line
    logged = stream.getvalue()
    assert "sốt cao" not in logged and "hai mốt" not in logged, logged
    assert logged.count("ValueError: ") == len(parsers), logged  # the error is still there


async def test_sql_logging_turned_up_shows_neither_parameters_nor_rows(
    db_url: str, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    # An operator who turns SQLAlchemy's log up to see the statements (the documented way) must
    # not get the values: parameters are hidden by the engine, rows (DEBUG) are never logged.
    logger, stream = captured
    sql_log = logging.getLogger("sqlalchemy.engine")
    before = sql_log.level
    handler = logger.handlers[0]
    sql_log.addHandler(handler)
    sql_log.setLevel(logging.DEBUG)
    db = open_database(db_url)
    try:
        log_privacy.install(logger)  # what `healthbot run` does at start (bot/cli.py)
        assert db.engine.sync_engine.hide_parameters and not db.engine.echo
        async with db.engine.connect() as conn:
            found = await conn.execute(text("SELECT :said AS said"), {"said": COMPLAINT})
            assert found.scalar_one() == COMPLAINT
    finally:
        await db.close()
        sql_log.removeHandler(handler)
        sql_log.setLevel(before)
    logged = stream.getvalue()
    assert "SELECT" in logged and "parameters hidden" in logged, logged  # statements stay
    assert COMPLAINT not in logged and "Rác thải" not in logged, logged
