"""The web chat HTTP API: cookies keep the conversation, bad requests get clean refusals."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_web_app


async def _client(healthbot) -> TestClient:
    client = TestClient(TestServer(build_web_app(healthbot)))
    await client.start_server()
    return client


async def test_page_is_vietnamese_and_names_the_station(healthbot, settings) -> None:
    client = await _client(healthbot)
    try:
        res = await client.get("/")
        body = await res.text()
        assert res.status == 200
        assert '<html lang="vi">' in body and settings.station.name in body
        assert "script-src 'self'" in res.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_cookie_keeps_the_conversation_across_reloads(healthbot) -> None:
    client = await _client(healthbot)
    try:
        res = await client.post("/api/message", json={"text": "/start"})
        assert res.status == 200
        cookie = res.cookies["hb_web"]
        assert cookie["httponly"]
        await client.post("/api/message", json={"button": "topics"})
        history = await (await client.get("/api/history")).json()
        texts = [m["text"] for m in history["messages"]]
        assert any("Xin chào" in t for t in texts)
        assert history["messages"][-1]["buttons"], "the last bot message keeps its buttons"
        assert "/start" not in texts
    finally:
        await client.close()


async def test_a_new_visitor_has_no_history(healthbot) -> None:
    client = await _client(healthbot)
    try:
        history = await (await client.get("/api/history")).json()
        assert history == {"messages": [], "cursor": 0}
    finally:
        await client.close()


async def test_malformed_requests_are_refused_and_the_server_keeps_running(healthbot) -> None:
    client = await _client(healthbot)
    try:
        for body in (
            b"{not json",
            b"[1,2]",
            b'{"text": 5}',
            b'{"button": "\xc3\xa1"}',
            b"\xff\xfe",
        ):
            res = await client.post(
                "/api/message", data=body, headers={"Content-Type": "application/json"}
            )
            assert res.status == 400, body
            assert "không hợp lệ" in (await res.json())["error"]
        res = await client.post("/api/message", data=b"x" * 40_000)
        assert res.status == 413
        res = await client.post("/api/message", json={"text": "sốt xuất huyết"})
        assert res.status == 200
    finally:
        await client.close()


async def test_html_in_text_comes_back_as_data_not_markup(healthbot) -> None:
    client = await _client(healthbot)
    try:
        res = await client.post("/api/message", json={"text": "<img src=x onerror=alert(1)>"})
        data = await res.json()
        assert res.status == 200 and data["messages"]
        assert all("<img" not in m["text"] for m in data["messages"])
    finally:
        await client.close()
