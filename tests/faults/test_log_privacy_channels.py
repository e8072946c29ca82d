"""Platforms that fail never put a token or secret in the log, `/readyz` or `/metrics`.

`healthbot run` as a real process, with recognisable planted secrets (in formats the token
pattern alone would not catch) and every platform failing a different way: station 2's own
Telegram bot is refused (401), the shared Telegram bot's and Zalo Bot's APIs answer 502 with an
HTML page that echoes the requested URL, token included, as some proxies do (python-telegram-bot
logs that page), station 2's own Zalo Bot cannot be reached (connection
refused), and the shared Zalo OA's servers answer 502. The bot keeps serving, says which channel
is down, and neither its whole log nor the two monitoring pages hold any planted value.

Before: the shared Telegram token was in the log, inside the 502 page python-telegram-bot logs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.faults.process import BotProcess, free_port, serve_every_path, write_config

pytestmark = pytest.mark.faults

TELEGRAM = "5550001111:PLANTED-shared-telegram"
STATION_TELEGRAM = "5550002222:PLANTED-station-telegram"
ZALO_BOT = "9990001111222233334:PLANTED-zalo-bot"
STATION_ZALO_BOT = "9990005555666677778:PLANTED-own-zalo"
OA_APP_SECRET, OA_SECRET_KEY = "PLANTED-oa-app-secret", "PLANTED-oa-secret-key"
COOKIE_SECRET = "PLANTED-cookie-secret-0123456789"
SECRETS = (TELEGRAM, STATION_TELEGRAM, ZALO_BOT, STATION_ZALO_BOT, OA_APP_SECRET, OA_SECRET_KEY,
           COOKIE_SECRET, "PLANTED")  # fmt: skip


async def failing_api() -> tuple[web.AppRunner, str]:
    """/refuse/…: Telegram's 401; anything else: a 502 page quoting the URL it was asked for."""

    async def answer(request: web.Request) -> web.Response:
        if request.path.startswith("/refuse/"):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        page = f"<html><body>502 Bad Gateway: upstream failed for {request.path_qs}</body></html>"
        return web.Response(status=502, text=page, content_type="text/html")

    return await serve_every_path(answer)


async def test_failing_platforms_leave_no_secret_in_the_log_readyz_or_metrics(
    db_url: str, tmp_path: Path
) -> None:
    api, base = await failing_api()
    closed = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    config = write_config(tmp_path / "config.toml", db_url, port, (
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        f'\n[telegram]\ntoken = "{TELEGRAM}"\napi_base_url = "{base}/bot"\n'
        f'\n[zalo_bot]\ntoken = "{ZALO_BOT}"\napi_base_url = "{base}/bot"\n'
        f'\n[zalo_oa]\napp_id = "4242424242"\napp_secret = "{OA_APP_SECRET}"\n'
        f'oa_secret_key = "{OA_SECRET_KEY}"\noauth_base_url = "{base}"\napi_base_url = "{base}"\n'
        f'\n[[stations]]\nid = 2\ncode = "XL"\nname = "Trạm Y tế phường Xuân La"\n'
        f'[stations.telegram]\ntoken = "{STATION_TELEGRAM}"\napi_base_url = "{base}/refuse/bot"\n'
        f'[stations.zalo_bot]\ntoken = "{STATION_ZALO_BOT}"\napi_base_url = "{closed}/bot"\n'
    ))  # fmt: skip
    bot = BotProcess(config, port, tmp_path / "healthbot.log")
    pages: dict[str, str] = {}
    try:
        await bot.wait_ready()
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the polls fail and are retried: give them a few rounds
                async with http.get(f"{bot.url}/readyz") as response:
                    pages["/readyz"] = await response.text()
                if '"zalo_bot@2"' in pages["/readyz"] or "telegram@2" in pages["/readyz"]:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # a few failed polls of each Zalo Bot
            for path in ("/readyz", "/metrics"):
                async with http.get(f"{bot.url}{path}") as response:
                    assert response.status == 200, path
                    pages[path] = await response.text()
    finally:
        exit_code = bot.stop()
        await api.cleanup()
    log = bot.log()
    assert exit_code == 0, log
    # The failures happened and the operator is told which channel is down.
    assert '"telegram@2": "token_rejected"' in pages["/readyz"], pages["/readyz"]
    down = 'healthbot_channel_down{channel="telegram@2",reason="token_rejected"} 1.0'
    assert down in pages["/metrics"], pages["/metrics"]
    assert "zalo_bot getUpdates failed" in log and "telegram@2 is down: token_rejected" in log, log
    for where, text in (("log", log), *pages.items()):
        leaked = [s for s in SECRETS if s in text]
        assert leaked == [], (where, leaked, text[-4000:])
    assert "Can not load invalid JSON data" in log and "/bot[token]/getMe" in log, log
