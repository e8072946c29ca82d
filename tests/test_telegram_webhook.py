"""Telegram webhook mode: the secret header is checked in constant time, bad bodies never crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import SECRET, Running, running_bot

RESIDENT = 8001
HEADER = "X-Telegram-Bot-Api-Secret-Token"
START = {
    "update_id": 99,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": RESIDENT, "type": "private", "first_name": "Lan"},
        "from": {"id": RESIDENT, "is_bot": False, "first_name": "Lan"},
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def hook(settings: Settings, fake: FakeTelegram, clock: object) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock, mode="webhook") as running:
        yield running


async def post(url: str, body: bytes | dict, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session:
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
        async with session.post(url, headers=headers, **kwargs) as resp:
            return resp.status


async def test_start_registers_the_webhook_with_its_secret(
    hook: Running, fake: FakeTelegram
) -> None:
    assert fake.webhook == {"url": hook.webhook_url, "secret_token": SECRET, "max_connections": 40}
    assert not fake.calls_to("getUpdates")


async def test_update_with_the_right_secret_is_answered(hook: Running, fake: FakeTelegram) -> None:
    await fake.push_message(RESIDENT, RESIDENT, "/start")
    # The webhook answers once the update is in the inbox; the reply follows.
    assert fake.webhook_deliveries[-1].status == 200
    (greeting,) = await fake.wait_for_sent(RESIDENT)
    assert "115" in greeting.text


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_wrong_or_missing_secret_is_refused_and_nothing_processed(
    hook: Running, fake: FakeTelegram, secret: str | None
) -> None:
    headers = {} if secret is None else {HEADER: secret}
    assert await post(hook.webhook_url, START, headers) == 403
    assert not fake.sent_to(RESIDENT)
    assert await hook.chat(RESIDENT) is None  # not even recorded


async def test_telegram_delivery_with_a_stale_secret_is_refused(
    hook: Running, fake: FakeTelegram
) -> None:
    assert fake.webhook is not None
    fake.webhook["secret_token"] = "rotated-elsewhere"
    await fake.push_message(RESIDENT, RESIDENT, "/start")
    assert fake.webhook_deliveries[-1].status == 403
    assert not fake.sent_to(RESIDENT)
    assert fake.updates  # Telegram keeps it pending for a later retry


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
async def test_malformed_body_gets_400_and_the_bot_keeps_working(
    hook: Running, fake: FakeTelegram, body: bytes
) -> None:
    assert await post(hook.webhook_url, body, {HEADER: SECRET}) == 400
    assert await post(hook.webhook_url, START, {HEADER: SECRET}) == 200
    await drained(hook)
    assert len(fake.sent_to(RESIDENT)) == 1


async def drained(hook: Running) -> None:
    await hook.bot.services.extras["inboxes"]["telegram"].drain()


async def test_core_failure_answers_503_for_redelivery_without_logging_the_text(
    hook: Running, fake: FakeTelegram, sqlite_only: None, caplog: pytest.LogCaptureFixture
) -> None:
    db_file = Path(hook.bot.services.settings.database.url.split("///", 1)[1])
    await hook.bot.services.db.engine.dispose()
    db_file.rename(db_file.with_suffix(".away"))  # the next connection finds an empty database
    private = "Nhà tôi ở số 5 ngõ 7, con bị sốt"
    update = START | {"message": START["message"] | {"text": private, "entities": []}}
    # Not even recorded in the inbox: Telegram must keep it and deliver it again.
    assert await post(hook.webhook_url, update, {HEADER: SECRET}) == 503
    assert not fake.sent_to(RESIDENT)
    assert "OperationalError" in caplog.text and private not in caplog.text
    await hook.bot.services.db.engine.dispose()
    db_file.unlink(missing_ok=True)
    db_file.with_suffix(".away").rename(db_file)
    assert await post(hook.webhook_url, update, {HEADER: SECRET}) == 200  # the redelivery
    await drained(hook)
    assert len(fake.sent_to(RESIDENT)) == 1


async def test_an_update_delivered_twice_is_answered_once(hook: Running, fake: FakeTelegram) -> None:
    """Telegram redelivers when it did not see our 200 (a crash, a timeout): no double answer."""
    question = START | {"message": START["message"] | {"text": "sot xuat huyet co lay ko",
                                                        "entities": []}}
    assert await post(hook.webhook_url, question, {HEADER: SECRET}) == 200
    await drained(hook)
    assert await post(hook.webhook_url, question, {HEADER: SECRET}) == 200
    await drained(hook)
    assert len(fake.sent_to(RESIDENT)) == 1
    follow = question | {"update_id": 100}
    assert await post(hook.webhook_url, follow, {HEADER: SECRET}) == 200
    await drained(hook)
    assert len(fake.sent_to(RESIDENT)) == 2  # a new update with the same text is answered
