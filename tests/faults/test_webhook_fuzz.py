"""Fault injection: fuzzed webhook bodies never get a 5xx (issue 13.7).

Hundreds of generated bodies go to each webhook (Telegram, Zalo Bot, Zalo OA) over real HTTP:
deeply nested JSON, bodies far over the size limit, wrong content types, binary garbage, JSON
scalars, and valid updates with fields deleted or replaced by values of the wrong type, with the
right secret, a forged one or none. The bar: no 5xx at all, every refusal a clean 4xx, nothing a
generated update contains crashes its handling (the inbox gives none up), and afterwards a real
resident is still answered. The generator is seeded, so a failure replays exactly.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import SIGNATURE_HEADER, FakeZaloOA, zalo_signature

pytestmark = pytest.mark.faults

SEED = 20261129
BODIES_PER_WEBHOOK = 400
REFUSALS = {400, 401, 403, 404, 405, 413, 415}
WEIRD: list[Any] = [None, True, False, 0, -1, 2**63, -(2**70), 1.5, 1e308, "", " ", "x" * 5000,
                    "/start", "/menu@other_bot", "😀" * 50, "\u0000\u202e", "6", [], {}, [1, "a"],
                    {"id": "abc"}, {"id": None}, [[[]]], "9" * 40]


def hostile_bodies(rng: random.Random) -> Iterator[tuple[bytes, str]]:
    """Bodies no platform sends, with the content type they are sent as."""
    yield b"[" * 200_000 + b"]" * 200_000, "application/json"
    yield b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "application/json"
    yield b'{"message":' * 5_000 + b"{}" + b"}" * 5_000, "application/json"
    yield b'{"x":"' + b"a" * 3_000_000 + b'"}', "application/json"
    yield b"", "application/json"
    yield b"null", "application/json"
    yield b"1e999999", "application/json"
    yield b'{"update_id": NaN}', "application/json"
    yield b"\xff\xfe\x00garbage", "application/octet-stream"
    yield b'{"ok": true}', "text/plain"
    yield b"a=1&b=2", "application/x-www-form-urlencoded"
    yield b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n", \
        "multipart/form-data; boundary=x"
    for _ in range(20):
        yield rng.randbytes(rng.randint(1, 3000)), rng.choice(["application/json", "text/html"])


def mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """The same structure with one random field deleted, nulled or given a wrong-typed value."""
    if isinstance(value, dict) and value and depth < 6:
        key = rng.choice(list(value))
        roll = rng.random()
        if roll < 0.25:
            value.pop(key)
        elif roll < 0.6:
            value[key] = copy.deepcopy(rng.choice(WEIRD))
        else:
            value[key] = mutate(rng, value[key], depth + 1)
    elif isinstance(value, list) and value and depth < 6:
        index = rng.randrange(len(value))
        value[index] = mutate(rng, value[index], depth + 1)
    elif rng.random() < 0.5:
        return copy.deepcopy(rng.choice(WEIRD))
    return value


def mutants(rng: random.Random, samples: list[dict[str, Any]], count: int,
            renumber: Callable[[dict[str, Any], int], None]) -> Iterator[dict[str, Any]]:
    for n in range(count):
        body = copy.deepcopy(rng.choice(samples))
        renumber(body, n)
        for _ in range(rng.randint(1, 4)):
            body = mutate(rng, body)
        yield body if isinstance(body, dict) else {"value": body}


async def post(http: aiohttp.ClientSession, url: str, body: bytes, content_type: str,
               headers: dict[str, str]) -> int:
    async with http.post(url, data=body, headers={"Content-Type": content_type, **headers}) as r:
        await r.read()
        return r.status


def check(statuses: dict[str, list[int]]) -> None:
    server_errors = {what: codes for what, codes in statuses.items()
                     if any(code >= 500 for code in codes)}
    assert not server_errors
    for what, codes in statuses.items():
        assert set(codes) <= REFUSALS | {200}, (what, sorted(set(codes)))


async def inbox_gave_up_none(bot: Any, channel: str) -> None:
    pump = bot.services.extras["inboxes"][channel]
    await pump.drain(timeout=120)
    assert pump.stats["failed"] == 0  # no generated update crashed its handling


# -- Telegram --

TELEGRAM_SAMPLES: list[dict[str, Any]] = [
    {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 8101, "type": "private", "first_name": "Lan"},
        "from": {"id": 8101, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}},
    {"update_id": 1, "message": {
        "message_id": 2, "date": 0, "chat": {"id": -100, "type": "group", "title": "Tổ 3"},
        "from": {"id": 8102, "is_bot": False, "first_name": "Minh"},
        "text": "@healthbot_test_bot sot xuat huyet", "reply_to_message": {
            "message_id": 1, "date": 0, "chat": {"id": -100, "type": "group"},
            "from": {"id": 123456, "is_bot": True, "first_name": "Bot"}}}},
    {"update_id": 1, "callback_query": {
        "id": "q1", "chat_instance": "c", "data": "lang:en",
        "from": {"id": 8103, "is_bot": False, "first_name": "Hoa"},
        "message": {"message_id": 3, "date": 0, "chat": {"id": 8103, "type": "private"},
                    "text": "Chọn ngôn ngữ"}}},
    {"update_id": 1, "my_chat_member": {
        "chat": {"id": -200, "type": "supergroup", "title": "Khu phố 2"}, "date": 0,
        "from": {"id": 8104, "is_bot": False, "first_name": "An"},
        "old_chat_member": {"status": "left", "user": {"id": 123456, "is_bot": True,
                                                       "first_name": "Bot"}},
        "new_chat_member": {"status": "member", "user": {"id": 123456, "is_bot": True,
                                                         "first_name": "Bot"}}}},
    {"update_id": 1, "message": {
        "message_id": 4, "date": 0, "chat": {"id": 8105, "type": "private"},
        "from": {"id": 8105, "is_bot": False}, "text": "no first name"}},  # issue 13.7
    {"update_id": 1, "message": {
        "message_id": 5, "date": 0, "chat": {"id": 8106, "type": "private"},
        "from": {"id": 8106, "is_bot": False, "first_name": "Tú"},
        "photo": [{"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1}],
        "location": {"latitude": 91, "longitude": 500}}},
]


async def test_fuzzed_telegram_webhook_never_answers_5xx(
    settings: Settings, clock: object
) -> None:
    from tests.test_telegram_e2e import SECRET, running_bot

    rng = random.Random(SEED)
    statuses: dict[str, list[int]] = {"hostile": [], "forged": [], "mutant": []}
    async with FakeTelegram(flood_limits=None) as fake, \
            running_bot(settings, fake, clock, mode="webhook") as hook, \
            aiohttp.ClientSession() as http:
        url, good = hook.webhook_url, {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for body, kind in hostile_bodies(rng):
            statuses["hostile"].append(await post(http, url, body, kind, good))
            statuses["forged"].append(await post(http, url, body, kind, {}))

        def renumber(body: dict[str, Any], n: int) -> None:
            body["update_id"] = 10_000 + n

        for update in mutants(rng, TELEGRAM_SAMPLES, BODIES_PER_WEBHOOK, renumber):
            raw = json.dumps(update).encode()
            statuses["mutant"].append(await post(http, url, raw, "application/json", good))
            if rng.random() < 0.1:
                forged = {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1] + "x"}
                statuses["forged"].append(await post(http, url, raw, "application/json", forged))
        check(statuses)
        assert set(statuses["forged"]) <= {403, 413}
        await inbox_gave_up_none(hook.bot, "telegram")
        before = len(fake.sent_to(8199))
        await fake.push_message(8199, 8199, "/start")  # a real resident is still answered
        await fake.wait_for_sent(8199, before + 1, timeout=30)


# -- Zalo Bot Platform --

ZALO_BOT_SAMPLES: list[dict[str, Any]] = [
    {"event_name": "message.text.received", "message": {
        "message_id": "m", "date": 1, "text": "/menu",
        "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"}}},
    {"ok": True, "result": {"event_name": "message.image.received", "message": {
        "message_id": "m", "date": 1, "photo_url": "https://example.org/a.jpg", "caption": "ảnh",
        "from": {"id": "aaaa", "display_name": "A"}, "chat": {"id": "aaaa", "chat_type": "GROUP"}}}},
    {"event_name": "message.sticker.received", "message": {
        "message_id": "m", "date": 1, "sticker": "x",
        "from": {"id": "bbbb"}, "chat": {"id": "bbbb", "chat_type": "PRIVATE"}}},
]


def _zalo_message(body: dict[str, Any]) -> dict[str, Any] | None:
    inner = body.get("result") if isinstance(body.get("result"), dict) else body
    message = inner.get("message") if isinstance(inner, dict) else None
    return message if isinstance(message, dict) else None


async def test_fuzzed_zalo_bot_webhook_never_answers_5xx(settings: Settings, clock: object) -> None:
    from tests.test_zalo_bot import SECRET, running_bot

    rng = random.Random(SEED + 1)
    statuses: dict[str, list[int]] = {"hostile": [], "forged": [], "mutant": []}
    async with FakeZaloBot() as fake, running_bot(settings, fake, clock, mode="webhook") as zb, \
            aiohttp.ClientSession() as http:
        good = {"X-Bot-Api-Secret-Token": SECRET}
        for body, kind in hostile_bodies(rng):
            statuses["hostile"].append(await post(http, zb.url, body, kind, good))
            statuses["forged"].append(await post(http, zb.url, body, kind,
                                                 {"X-Bot-Api-Secret-Token": "nope-nope"}))

        def renumber(body: dict[str, Any], n: int) -> None:
            if (message := _zalo_message(body)) is not None:
                message["message_id"] = f"fuzz{n:016x}"

        for update in mutants(rng, ZALO_BOT_SAMPLES, BODIES_PER_WEBHOOK, renumber):
            raw = json.dumps(update).encode()
            statuses["mutant"].append(await post(http, zb.url, raw, "application/json", good))
        check(statuses)
        assert set(statuses["forged"]) <= {403, 413}
        await inbox_gave_up_none(zb.bot, "zalo_bot")
        await fake.push_text("c0ffee00c0ffee00c0ff", "/start")
        await fake.wait_for_sent("c0ffee00c0ffee00c0ff", 1, timeout=30)


# -- Zalo Official Account --


async def test_fuzzed_zalo_oa_webhook_never_answers_5xx(settings: Settings, clock: object) -> None:
    from tests.test_zalo_oa import RESIDENT, running_bot, seed_tokens

    rng = random.Random(SEED + 2)
    statuses: dict[str, list[int]] = {"unsigned": [], "signed": [], "mutant": []}
    async with FakeZaloOA(clock=lambda: clock.now.timestamp()) as fake, \
            running_bot(settings, fake, clock) as oa, aiohttp.ClientSession() as http:  # type: ignore[attr-defined]
        await seed_tokens(oa.db, fake, clock)
        url = fake.webhook_url or ""

        def signed(raw: bytes, timestamp: str = "") -> dict[str, str]:
            mac = zalo_signature(fake.app_id, raw, timestamp, fake.oa_secret_key)
            return {SIGNATURE_HEADER: f"mac={mac}"}

        for body, kind in hostile_bodies(rng):
            # Unsigned: refused before the body is even parsed.
            statuses["unsigned"].append(await post(http, url, body, kind, {}))
            statuses["unsigned"].append(await post(http, url, body, kind,
                                                   {SIGNATURE_HEADER: "mac=" + "0" * 64}))
            # Signed garbage (a leaked key, or a bug at Zalo): still a clean 4xx.
            statuses["signed"].append(await post(http, url, body, kind, signed(body)))
        samples = [fake.user_send_text(RESIDENT, "/menu"), fake.user_send_image(RESIDENT, "https://example.org/a.jpg"),
                   fake.user_send_location(RESIDENT, 21.0, 105.8), fake.follow(RESIDENT),
                   fake.user_send_group_text("g1", RESIDENT, "6"), fake.oa_send_text(RESIDENT, "x")]

        def renumber(body: dict[str, Any], n: int) -> None:
            if isinstance(body.get("message"), dict):
                body["message"]["msg_id"] = f"fuzz{n}"

        for event in mutants(rng, samples, BODIES_PER_WEBHOOK, renumber):
            raw = json.dumps(event, ensure_ascii=False).encode()
            stamp = str(event.get("timestamp") or "")
            statuses["mutant"].append(await post(http, url, raw, "application/json",
                                                 signed(raw, stamp)))
        check(statuses)
        assert set(statuses["unsigned"]) <= {401, 413}
        await inbox_gave_up_none(oa.bot, "zalo_oa")
        before = len(fake.sent_to(RESIDENT))
        assert (await fake.send_text(RESIDENT, "/start")).status == 200
        await fake.wait_for_sent(RESIDENT, before + 1, timeout=30)
