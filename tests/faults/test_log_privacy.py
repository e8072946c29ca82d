"""Personal data never reaches the log: the bot runs as a real process, a resident files feedback
with a phone number, registers a child's birth date, and the database is made to fail twice (once
inside the feedback handler, once for the whole exchange); then the whole log is searched for every
personal value typed and for the web chat cookies (a credential). Zero hits.

Before: the handler error printed the statement's parameters (the complaint, the web cookie), and
the failed exchange printed them again from the web server's "Error handling request". Later, on
PostgreSQL, the failed exchange's traceback still quoted the refused row (the resident's message)
in the server's DETAIL; the access log, now on, must name routes, never a link's token or an OAuth
callback's code and state.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.faults.process import BotProcess, free_port, write_config

pytestmark = pytest.mark.faults

PHONE_A, PHONE_B = "0912345678", "0987654321"
COMPLAINT_A = "Bác sĩ trực đêm 12 không có mặt, con tôi sốt cao"
COMPLAINT_B = "Nhà vệ sinh trạm hỏng khoá cửa từ tuần trước"
COMPLAINT_C = "Cống trước nhà số 5 ngõ 12 tắc, nước bẩn tràn vào sân"
LINK = "Zq3" + "x7Lm0" * 8  # a one-time report link's token (bot/report/downloads.py)
OAUTH_CODE, OAUTH_STATE = "oauth-code-Hk29fQ7", "oauth-state-Vb81pZ3"
CHILD = "Cu Tèo Nhà Hà"
BIRTH = date(2026, 8, 21)


class WebResident:
    """A browser talking to the web chat JSON API, with its own cookie."""

    def __init__(self, bot: BotProcess) -> None:
        self.bot = bot
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.last: dict[str, Any] = {}
        self.status = 0

    async def send(self, text: str = "", button: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text} if button is None else {"button": button}
        async with self.http.post(f"{self.bot.url}/api/message", json=body) as response:
            self.status = response.status
            self.last = await response.json()
        return self.last

    async def tap(self, label: str) -> dict[str, Any]:
        for message in self.last.get("messages", []):
            for row in message["buttons"]:
                for button in row:
                    if label in (button["label"], button["data"]):
                        return await self.send(button=button["data"])
        raise AssertionError(f"no button {label!r} in {self.last}")

    def has_button(self, data: str) -> bool:
        return any(b["data"] == data for m in self.last.get("messages", [])
                   for row in m["buttons"] for b in row)  # fmt: skip

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.last.get("messages", [])) or str(self.last)

    def cookie(self) -> str:
        return next(c.value for c in self.http.cookie_jar if c.key == "hb_web")

    async def file(self, complaint: str, phone: str) -> None:
        await self.send("/gopy")
        await self.tap("Vệ sinh môi trường / ổ bọ gậy")
        await self.send(complaint)
        await self.tap("Tiếp tục")
        await self.tap("Để lại số điện thoại")
        await self.send(phone)
        await self.tap("Gửi")


async def inject(url: str, table: str) -> None:
    """Make every INSERT into `table` fail inside the database (no project code touched)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            # A CHECK violation's DETAIL quotes the whole failing row: the harshest case.
            await conn.execute(text(
                f"ALTER TABLE {table} ADD CONSTRAINT injected_fault CHECK (id < 0) NOT VALID"
            ))  # fmt: skip
        else:
            await conn.execute(text(
                f"CREATE TRIGGER injected_fault_{table} BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            ))  # fmt: skip
    await engine.dispose()


async def heal(url: str, table: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT injected_fault"))
        else:
            await conn.execute(text(f"DROP TRIGGER injected_fault_{table}"))
    await engine.dispose()


async def test_the_log_of_a_full_scenario_with_forced_errors_holds_no_personal_value(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path / "config.toml", db_url, port)
    bot = BotProcess(config, port, tmp_path / "healthbot.log")
    alice: WebResident | None = None
    bob: WebResident | None = None
    try:
        await bot.wait_ready()
        alice, bob = WebResident(bot), WebResident(bot)
        await alice.send("/start")
        await alice.file(COMPLAINT_A, PHONE_A)
        assert "PA-2026-" in alice.text or "PA-20" in alice.text, alice.text
        await alice.send("/nhaclich")
        await alice.tap("rem:child")
        if alice.has_button("rem:consent:child"):
            await alice.tap("rem:consent:child")
        await alice.send(CHILD)
        await alice.send(BIRTH.strftime("%d/%m/%Y"))
        # 1. The feedback handler fails (its INSERT is refused): the resident gets the apology.
        await inject(db_url, "tickets")
        await bob.send("/start")
        await bob.file(COMPLAINT_B, PHONE_B)
        assert "sự cố" in bob.text and bob.status == 200
        await heal(db_url, "tickets")
        # 2. The whole exchange fails (the message log refuses it), five times in a row.
        await inject(db_url, "message_log")
        for _ in range(5):  # PostgreSQL's error quotes the refused row: this very text
            await bob.send(f"{COMPLAINT_C}. Số của tôi là {PHONE_B}, gọi lại giúp")
            assert bob.status == 503 and "115" in bob.last["error"]
        await heal(db_url, "message_log")
        await bob.send("/menu")
        assert bob.status == 200
        cookies = [alice.cookie(), bob.cookie()]
        # 3. A used-up report link and an OAuth callback: the access log names the routes only.
        async with bob.http.get(f"{bot.url}/tai-bao-cao/{LINK}") as response:
            assert response.status == 410
        async with bob.http.get(
            f"{bot.url}/zalo/oa/callback", params={"code": OAUTH_CODE, "state": OAUTH_STATE}
        ) as response:
            assert response.status == 404
    finally:
        exit_code = bot.stop()
        for resident in (alice, bob):
            if resident is not None:
                await resident.http.close()
    log = bot.log()
    assert exit_code == 0, log
    # The faults did happen and were reported: the handler error, and the outage once.
    assert "handler failed for a web update" in log
    assert log.count("handling messages (database) failed") == 1, log
    assert "handling messages (database) works again" in log
    assert "GET /tai-bao-cao/{token} 410" in log and "GET /zalo/oa/callback?code&state 404" in log
    secrets = [
        PHONE_A, PHONE_B, PHONE_A[1:], PHONE_B[1:], "0912 345 678", "0987 654 321",
        COMPLAINT_A, COMPLAINT_B, "con tôi sốt cao", "hỏng khoá cửa", CHILD, "Tèo",
        BIRTH.strftime("%d/%m/%Y"), BIRTH.isoformat(), *cookies, COMPLAINT_C, "gọi lại giúp",
        LINK, OAUTH_CODE, OAUTH_STATE,
    ]  # fmt: skip
    leaked = [s for s in secrets if s in log]
    assert leaked == [], (leaked, log[-4000:])


def test_the_redaction_masks_personal_values_and_keeps_what_operators_need() -> None:
    from bot.log_privacy import redact

    line = (
        "phones 0912345678 +84 912 345 678 0912.345.678 84912345678; cookie "
        "0123456789abcdef0123456789abcdef; token 123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef_-12; "
        "born 21/08/2026; [parameters: ('Chuột chạy đầy chợ', 'web')]\n"
        "[parameters: ('Cống [ngõ 5] tắc, nước tràn', 'web')]\n(Background on this error at: x)\n"
        "ticket PA-2026-000013 chat telegram:-1001234567890 at 2026-11-23 03:00:00 after 12.5 s"
    )
    masked = redact(line)
    for secret in ("912345678", "912 345 678", "912.345.678", "0123456789abcdef", "ABCDEFGHIJ",
                   "21/08/2026", "Chuột", "nước tràn"):  # fmt: skip
        assert secret not in masked, masked
    for kept in ("PA-2026-000013", "telegram:-1001234567890", "2026-11-23 03:00:00", "12.5 s"):
        assert kept in masked, masked


def test_libraries_that_log_request_bodies_stay_quiet_even_at_debug() -> None:
    # An operator who turns the root logger to DEBUG must not get every sent text (sign-in codes,
    # residents' answers) from python-telegram-bot or httpx in the log.
    import logging

    from bot import log_privacy

    root = logging.getLogger()
    before = root.level
    try:
        root.setLevel(logging.DEBUG)
        log_privacy.install()
        for name in ("telegram.ext.ExtBot", "telegram._bot", "httpx", "httpcore.http11"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger("bot.engine").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(before)
