"""The Zalo fakes answer like the documented Zalo Bot Platform and OA APIs, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import FakeZaloOA

RESIDENT = "6ede9afa66b88fe6d6a9"
SECRET = "webhook-secret-123"


class Receiver:
    """A stand-in for the bot's webhook endpoint that checks what a real bot must check."""

    def __init__(self, oa_secret_key: str = "fake-oa-secret-key") -> None:
        self.oa_secret_key = oa_secret_key
        self.bodies: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def zalo_bot(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, SECRET):
            return web.Response(status=401)
        self.bodies.append(await request.json())
        return web.Response()

    async def zalo_oa(self, request: web.Request) -> web.Response:
        raw = await request.read()
        event = json.loads(raw)
        expected = hashlib.sha256(event["app_id"].encode() + raw + event["timestamp"].encode()
                                  + self.oa_secret_key.encode()).hexdigest()
        given = request.headers.get("X-ZEvent-Signature", "").removeprefix("mac=")
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401)
        self.bodies.append(event)
        return web.Response()

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/zalo/bot", self.zalo_bot)
        app.router.add_post("/zalo/oa", self.zalo_oa)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def zbot() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def oa() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


async def call(http: aiohttp.ClientSession, zbot: FakeZaloBot, method: str,
               body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{zbot.bot_api_url}{zbot.token}/{method}", json=body or {}) as resp:
        return resp.status, await resp.json()


# --- Zalo Bot Platform ---


async def test_bot_send_message_and_2000_char_limit(http, zbot: FakeZaloBot) -> None:
    status, body = await call(http, zbot, "sendMessage", {"chat_id": RESIDENT, "text": "Chào"})
    assert status == 200 and body["ok"] is True
    assert len(body["result"]["message_id"]) == 20 and body["result"]["date"] > 1e12  # ms
    status, _ = await call(http, zbot, "sendMessage", {"chat_id": RESIDENT, "text": "a" * 2000})
    assert status == 200
    status, body = await call(http, zbot, "sendMessage", {"chat_id": RESIDENT, "text": "a" * 2001})
    assert (status, body["ok"], body["error_code"]) == (400, False, 400)
    status, _ = await call(http, zbot, "sendMessage", {"chat_id": RESIDENT, "text": ""})
    assert status == 400
    assert [s.text for s in zbot.sent_to(RESIDENT)] == ["Chào", "a" * 2000]


async def test_bot_get_updates_one_per_call_then_408(http, zbot: FakeZaloBot) -> None:
    await zbot.push_text(RESIDENT, "lich tiem", display_name="Lan")
    await zbot.push_photo(RESIDENT, "https://example.org/don-thuoc.jpg", "đơn thuốc")
    _, first = await call(http, zbot, "getUpdates", {"timeout": "1"})
    _, second = await call(http, zbot, "getUpdates", {"timeout": "1"})
    assert first["result"]["event_name"] == "message.text.received"
    assert first["result"]["message"]["text"] == "lich tiem"
    assert first["result"]["message"]["from"]["display_name"] == "Lan"
    assert second["result"]["message"]["photo_url"] == "https://example.org/don-thuoc.jpg"
    started = time.monotonic()
    status, empty = await call(http, zbot, "getUpdates", {"timeout": "0.2"})
    assert (status, empty["error_code"], empty["description"]) == (408, 408, "Request timeout")
    assert time.monotonic() - started >= 0.2


async def test_bot_long_poll_wakes_on_push(http, zbot: FakeZaloBot) -> None:
    poll = asyncio.create_task(call(http, zbot, "getUpdates", {"timeout": "10"}))
    await zbot.wait_for_poll()
    started = time.monotonic()
    await zbot.push_text(RESIDENT, "2")
    _, body = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1  # answered at once, not at the 10 s timeout
    assert body["result"]["message"]["text"] == "2"


async def test_bot_wrong_token_unknown_method_bad_photo(http, zbot: FakeZaloBot) -> None:
    async with http.post(f"{zbot.bot_api_url}1:wrong/getMe", json={}) as resp:
        assert resp.status == 401 and (await resp.json())["ok"] is False
    status, _ = await call(http, zbot, "sendVoice", {"chat_id": RESIDENT})
    assert status == 404
    status, _ = await call(http, zbot, "sendPhoto", {"chat_id": RESIDENT, "photo": "not-a-url"})
    assert status == 400
    status, body = await call(http, zbot, "sendChatAction",
                              {"chat_id": RESIDENT, "action": "typing"})
    assert status == 200 and zbot.chat_actions == [(RESIDENT, "typing")]


async def test_bot_webhook_secret_body_modes_and_redelivery(http, zbot: FakeZaloBot) -> None:
    async with Receiver() as receiver:
        status, _ = await call(http, zbot, "setWebhook",
                               {"url": f"{receiver.url}/zalo/bot", "secret_token": "short"})
        assert status == 400  # secret_token must be 8-256 characters
        status, body = await call(http, zbot, "setWebhook",
                                  {"url": f"{receiver.url}/zalo/bot", "secret_token": SECRET})
        assert status == 200 and body["result"]["url"].endswith("/zalo/bot")
        status, _ = await call(http, zbot, "getUpdates", {"timeout": "0"})
        assert status == 409  # polling and webhook are mutually exclusive

        update = await zbot.push_text(RESIDENT, "xin chao")
        zbot.webhook_body = "wrapped"
        await zbot.redeliver()
        await zbot.deliver(update, secret="wrong-secret-xyz")

        flat, wrapped = receiver.bodies
        assert flat["message"]["text"] == "xin chao" and "ok" not in flat
        assert wrapped == {"ok": True, "result": flat}  # same message_id twice
        assert [d.status for d in zbot.webhook_deliveries] == [200, 200, 401]


# --- Zalo Official Account ---


async def oa_post(http, oa: FakeZaloOA, path: str, body: dict[str, Any], token: str
                  ) -> dict[str, Any]:
    async with http.post(f"{oa.api_base_url}{path}", json=body,
                         headers={"access_token": token}) as resp:
        assert resp.status == 200  # Zalo answers errors in the body
        return await resp.json()


async def refresh(http, oa: FakeZaloOA, refresh_token: str) -> dict[str, Any]:
    form = {"app_id": oa.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
    async with http.post(f"{oa.oauth_base_url}/v4/oa/access_token", data=form,
                         headers={"secret_key": oa.app_secret}) as resp:
        return await resp.json()


def text_to(user_id: str, text: str) -> dict[str, Any]:
    return {"recipient": {"user_id": user_id}, "message": {"text": text}}


async def test_oa_signed_events_round_trip(oa: FakeZaloOA) -> None:
    async with Receiver() as receiver:
        oa.webhook_url = f"{receiver.url}/zalo/oa"
        good = await oa.send_event(oa.user_send_text(RESIDENT, "Xin chào trạm y tế"))
        forged = await oa.send_event(oa.user_send_text(RESIDENT, "giả"), forge_signature=True)
        stale_event = oa.user_send_text(RESIDENT, "cũ", timestamp_ms=oa.stale_timestamp_ms(3600))
        stale = await oa.send_event(stale_event)
        echo = await oa.send_event(oa.oa_send_text(RESIDENT, "Trạm trả lời"))
        location = await oa.send_event(oa.user_send_location(RESIDENT, 10.77, 106.70))
    assert (good.status, forged.status, stale.status, echo.status) == (200, 401, 200, 200)
    assert good.signature.startswith("mac=")
    # Hashing a re-serialised body would not verify: the bot must hash the raw bytes.
    reserialised = json.dumps(json.loads(good.raw_body)).encode()
    assert hashlib.sha256(oa.app_id.encode() + reserialised + good.event["timestamp"].encode()
                          + oa.oa_secret_key.encode()).hexdigest() != good.signature[4:]
    assert int(stale.event["timestamp"]) < (time.time() - 3500) * 1000  # bot must refuse it
    assert echo.event["sender"]["id"] == oa.oa_id  # the echo comes from the OA itself
    coordinates = location.event["message"]["attachments"][0]["payload"]["coordinates"]
    assert coordinates == {"latitude": "10.77", "longitude": "106.7"}
    texts = [b["message"].get("text") for b in receiver.bodies]
    assert texts == ["Xin chào trạm y tế", "cũ", "Trạm trả lời", None]  # not the forged one


async def test_oa_refresh_token_rotates_and_old_one_dies(http, oa: FakeZaloOA) -> None:
    access, refresh_token = oa.issue_tokens()
    fresh = await refresh(http, oa, refresh_token)
    assert fresh["expires_in"] == "90000" and fresh["refresh_token"] != refresh_token
    reused = await refresh(http, oa, refresh_token)
    assert reused["error"] < 0 and "access_token" not in reused
    sent = await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "Chào"),
                         fresh["access_token"])
    assert sent["error"] == 0 and sent["data"]["message_id"]
    async with http.post(f"{oa.oauth_base_url}/v4/oa/access_token", data={
            "app_id": oa.app_id, "grant_type": "refresh_token",
            "refresh_token": fresh["refresh_token"]}, headers={"secret_key": "wrong"}) as resp:
        assert (await resp.json())["error"] < 0


async def test_oa_expired_access_token_codes(http, oa: FakeZaloOA) -> None:
    access, refresh_token = oa.issue_tokens()
    oa.expire_access_token()
    answer = await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "x"), access)
    assert answer["error"] == -216 and answer["message"]
    oa.token_error_code = -220
    answer = await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "x"), access)
    assert answer["error"] == -220
    access2, _ = oa.issue_tokens()
    oa.advance(90_001)  # access tokens live 25 h
    answer = await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "x"), access2)
    assert answer["error"] == -220 and oa.sent == []


async def test_oa_window_follower_and_rate_limit_errors(http, oa: FakeZaloOA) -> None:
    access, _ = oa.issue_tokens()
    oa.add_user(RESIDENT, "Lan", interacted_seconds_ago=6 * 86_400)
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "a"), access)
            )["error"] == 0
    oa.advance(2 * 86_400)  # now 8 days since the last interaction
    access, _ = oa.issue_tokens()  # the old access token died after 25 h
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "b"), access)
            )["error"] == -230
    oa.webhook_url = "http://127.0.0.1:9/unreachable"  # delivery fails, the interaction counts
    await oa.send_event(oa.user_send_text(RESIDENT, "tôi đây"))
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(RESIDENT, "c"), access)
            )["error"] == 0
    oa.users_outside_window.add("u2")
    oa.set_user_error("u3", -213)
    oa.fail_next(-32)
    codes = [(await oa_post(http, oa, "/v3.0/oa/message/cs", text_to(uid, "x"), access))["error"]
             for uid in ("u4", "u2", "u3", "u4")]
    assert codes == [-32, -230, -213, 0]
    assert [s.text for s in oa.sent] == ["a", "c", "x"]


async def test_oa_buttons_images_and_groups(http, oa: FakeZaloOA) -> None:
    access, _ = oa.issue_tokens()

    def menu(count: int) -> dict[str, Any]:
        buttons = [{"title": f"Mục {n}", "type": "oa.query.hide", "payload": f"m{n}"}
                   for n in range(count)]
        return {"recipient": {"user_id": RESIDENT}, "message": {
            "text": "Chọn:", "attachment": {"type": "template", "payload": {"buttons": buttons}}}}

    image = {"attachment": {"type": "template", "payload": {"template_type": "media",
             "elements": [{"media_type": "image", "url": "https://example.org/a.png"}]}}}
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs", menu(5), access))["error"] == 0
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs", menu(6), access))["error"] == -201
    assert (await oa_post(http, oa, "/v3.0/oa/message/cs",
                          {"recipient": {"user_id": RESIDENT}, "message": image}, access)
            )["error"] == 0
    group = {"recipient": {"group_id": "g1"}, "message": {"text": "Lịch tiêm tháng này"}}
    assert (await oa_post(http, oa, "/v3.0/oa/group/message", group, access))["error"] == -403
    oa.add_group("g1")
    assert (await oa_post(http, oa, "/v3.0/oa/group/message", group, access))["error"] == 0
    with_buttons = menu(1) | {"recipient": {"group_id": "g1"}}
    assert (await oa_post(http, oa, "/v3.0/oa/group/message", with_buttons, access)
            )["error"] == -233
    assert (await oa_post(http, oa, "/v3.0/oa/group/message",
                          {"recipient": {"group_id": "g1"}, "message": image}, access)
            )["error"] == 0
    assert len(oa.sent_to(RESIDENT)[0].buttons) == 5
    assert oa.sent_to(RESIDENT)[1].image == "https://example.org/a.png"
    assert [s.text for s in oa.sent_to("g1")] == ["Lịch tiêm tháng này", None]


async def test_oa_authorization_code_with_pkce(http, oa: FakeZaloOA) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    code = oa.issue_auth_code(challenge.rstrip(b"=").decode())
    form = {"app_id": oa.app_id, "grant_type": "authorization_code", "code": code}
    url = f"{oa.oauth_base_url}/v4/oa/access_token"
    headers = {"secret_key": oa.app_secret}
    async with http.post(url, data=form | {"code_verifier": "wrong"}, headers=headers) as resp:
        assert (await resp.json())["error"] < 0  # and the code is now used up
    code = oa.issue_auth_code(challenge.rstrip(b"=").decode())
    form["code"] = code
    async with http.post(url, data=form | {"code_verifier": verifier}, headers=headers) as resp:
        tokens = await resp.json()
    assert tokens["access_token"] and tokens["refresh_token"]


async def test_oa_profiles_and_follower_list(http, oa: FakeZaloOA) -> None:
    access, _ = oa.issue_tokens()
    oa.add_user("u1", "Nguyễn Thị Lan")
    oa.add_user("u2", "Trần Văn Minh", follower=False)
    headers = {"access_token": access}
    detail_url = f"{oa.api_base_url}/v3.0/oa/user/detail"
    async with http.get(detail_url, params={"data": json.dumps({"user_id": "u1"})},
                        headers=headers) as resp:
        detail = (await resp.json())["data"]
    assert detail["display_name"] == "Nguyễn Thị Lan" and detail["user_is_follower"] is True
    list_url = f"{oa.api_base_url}/v3.0/oa/user/getlist"
    query = {"offset": 0, "count": 50, "is_follower": "true"}
    async with http.get(list_url, params={"data": json.dumps(query)}, headers=headers) as resp:
        listing = (await resp.json())["data"]
    assert listing["users"] == [{"user_id": "u1"}] and listing["total"] == 1
    query["count"] = 51
    async with http.get(list_url, params={"data": json.dumps(query)}, headers=headers) as resp:
        assert (await resp.json())["error"] == -201
