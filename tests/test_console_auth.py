"""The web console's sign-in (issue 18): a staff handle, a one-time code on the member's own
Telegram chat, a server-side session in a signed cookie; no enumeration, limits, CSRF, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.config import ConfigError, load_settings
from storage.models import ConsoleAudit, ConsoleCode, Outbox
from tests.console_helpers import (  # noqa: F401 - fixtures
    ADMIN,
    APPROVER,
    NURSE,
    ConsoleClient,
    console_fixture,
    fake_fixture,
)


async def test_staff_sign_in_with_the_code_sent_to_their_telegram(console) -> None:  # noqa: ANN001
    client = await console.sign_in(NURSE)
    home = await client.get("/console/")
    assert home.status == 200
    assert "Xin chào, Điều dưỡng Mai" in home.text  # Vietnamese by default
    assert "Nhật ký truy cập" not in home.text  # the audit log is the admin's only
    message = console.fake.sent_to(int(NURSE.telegram_id))[-1].text
    assert "Mã đăng nhập bảng điều khiển" in message and "10 phút" in message
    admin = await console.sign_in(ADMIN)
    assert "Nhật ký truy cập" in (await admin.get("/console/")).text
    english = await admin.get("/console/lang/en")
    assert "Hello, Y sĩ Hoa" in english.text and "Audit log" in english.text


async def test_an_unknown_name_gets_the_same_answer_and_no_code_works(console) -> None:  # noqa: ANN001
    stranger = await console.client()
    page = await console.request_code(stranger, "Nguyễn Văn Dân")  # a resident, not staff
    known = await console.client()
    page_known = await console.request_code(known, NURSE.handle)
    assert page.status == page_known.status == 200
    assert page.url == page_known.url
    assert _text(page.text) == _text(page_known.text)
    wrong = await stranger.post("/console/signin/code", {"code": "123456"})
    assert wrong.status == 401 and "Mã không đúng" in wrong.text
    assert (await stranger.get("/console/", follow=False)).status == 303


def _text(html: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', "", html)


async def test_a_code_works_once_is_hashed_and_its_message_is_emptied(console) -> None:  # noqa: ANN001
    client = await console.client()
    await console.request_code(client, "Y sĩ Hoa")  # the full name works as well
    code = await console.code_for(ADMIN, 0)
    async with console.bot.services.db.sessions() as session:
        (row,) = (await session.execute(select(ConsoleCode))).scalars().all()
        assert code not in row.code_hash and len(row.code_hash) == 64
    assert (await client.post("/console/signin/code", {"code": code})).status == 200
    async with console.bot.services.db.sessions() as session:
        payloads = [o.payload for o in (await session.execute(select(Outbox))).scalars()]
        audit = (await session.execute(select(ConsoleAudit))).scalars().all()
    assert all(code not in str(p) for p in payloads)
    assert [(a.actor, a.action, a.outcome) for a in audit] == [
        ("Y sĩ Hoa", "signin.code", "ok"), ("Y sĩ Hoa", "signin", "ok")]
    other = await console.client()
    await other.get("/console/signin")
    await other.post("/console/signin", {"handle": "hoa"})
    again = await other.post("/console/signin/code", {"code": code})  # another browser, old code
    assert again.status == 401


async def test_wrong_codes_are_limited_per_member(console, clock) -> None:  # noqa: ANN001
    client = await console.client()
    await console.request_code(client, NURSE.handle)
    code = await console.code_for(NURSE, 0)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert (await client.post("/console/signin/code", {"code": wrong})).status == 401
    # The code is spent after five wrong guesses, and the member is paused for 15 minutes.
    assert (await client.post("/console/signin/code", {"code": code})).status == 429
    second = await console.client()
    before = len(console.fake.sent_to(int(NURSE.telegram_id)))
    await console.request_code(second, NURSE.handle)
    fresh = await console.code_for(NURSE, before)
    assert (await second.post("/console/signin/code", {"code": fresh})).status == 429


async def test_an_expired_code_is_refused(console, clock) -> None:  # noqa: ANN001
    client = await console.client()
    await console.request_code(client, APPROVER.handle)
    code = await console.code_for(APPROVER, 0)
    clock.advance(minutes=11)
    assert (await client.post("/console/signin/code", {"code": code})).status == 401


async def test_forms_without_the_csrf_token_are_refused(console) -> None:  # noqa: ANN001
    client = await console.client()
    await client.get("/console/signin")
    assert (await client.post("/console/signin", {"handle": "mai"}, csrf=False)).status == 403
    assert console.fake.sent_to(int(NURSE.telegram_id)) == []
    signed = await console.sign_in(NURSE)
    out = await signed.post("/console/signout", {"csrf": "forged"})
    assert (await signed.get("/console/", follow=False)).status == 200, "still signed in"
    assert out.status == 403
    await signed.post("/console/signout")
    assert (await signed.get("/console/", follow=False)).status == 303, "signed out"


async def test_a_forged_or_altered_session_cookie_is_refused(console) -> None:  # noqa: ANN001
    client = await console.sign_in(NURSE)
    value = client.cookie("hb_console")
    assert value
    token, signature = value.split(".")
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B") + "." + signature,
                   token + "." + "0" * 64, "x" * 43 + "." + signature, token):
        browser = ConsoleClient(console.url)
        browser.http.cookie_jar.update_cookies({"hb_console": forged})
        try:
            page = await browser.get("/console/", follow=False)
            assert page.status == 303 and page.headers["Location"].endswith("/console/signin")
        finally:
            await browser.close()


async def test_the_cookies_are_httponly_strict_and_secure(settings, fake, clock) -> None:  # noqa: ANN001
    from tests.console_helpers import console_stack

    async with console_stack(settings, fake, clock, insecure_cookies=False) as running:
        client = await running.client()
        async with client.http.get(running.url + "/console/signin") as res:
            cookie = res.headers["Set-Cookie"]
            csp = res.headers["Content-Security-Policy"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console/" in cookie
    assert "Secure" in cookie
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


async def test_the_console_is_off_by_default(healthbot) -> None:  # noqa: ANN001
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import build_web_app

    assert not healthbot.services.settings.console.enabled
    async with TestClient(TestServer(build_web_app(healthbot))) as http:
        assert (await http.get("/console/signin")).status == 404


@pytest.mark.parametrize("toml,complaint", [
    ('[web]\nhost = "0.0.0.0"\n[console]\ninsecure_cookies = true\n', "insecure_cookies"),
    ('[console]\ncode_minutes = 60\n', "code_minutes"),
    ('[[staff]]\nname = "A"\nhandle = "an"\n[[staff]]\nname = "B"\nhandle = "an"\n', "staff[1]"),
    ('[[staff]]\nname = "A"\nhandle = "An Nguyen"\n', "handle"),
])
def test_console_settings_are_checked(tmp_path, toml: str, complaint: str) -> None:  # noqa: ANN001
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_settings(path, env={})


async def test_codes_tokens_and_cookies_never_reach_the_log(console, caplog) -> None:  # noqa: ANN001
    import logging

    caplog.set_level(logging.INFO)  # the level `healthbot run` logs at (bot/cli.py)
    for name in ("bot", "scheduler", "storage"):  # the project's own code: even at DEBUG
        caplog.set_level(logging.DEBUG, logger=name)
    client = await console.client()
    await console.request_code(client, NURSE.handle)
    code = await console.code_for(NURSE, 0)
    await client.post("/console/signin/code", {"code": "999999" if code != "999999" else "1"})
    await client.post("/console/signin/code", {"code": code})
    cookie = client.cookie("hb_console")
    assert cookie and (await client.get("/console/")).status == 200
    logged = caplog.text
    assert code not in logged
    for secret in (cookie, *cookie.split("."), client.cookie("hb_console_flow") or "x" * 40):
        assert secret not in logged


async def test_a_member_without_telegram_gets_the_code_in_their_web_chat(settings, fake,  # noqa: ANN001, F811
                                                                          clock) -> None:  # noqa: ANN001
    import asyncio

    import aiohttp

    from bot.config import StaffMember
    from tests.console_helpers import CODE, console_stack
    from tests.web_visitor import WebVisitor

    visitor_id = "ab" * 16
    web_only = StaffMember(name="Hộ sinh Thu", role="staff", web_id=visitor_id, handle="thu")
    async with console_stack(settings, fake, clock, staff=(ADMIN, web_only)) as running:
        # The member's browser, already known to the bot by its cookie (the member's web_id).
        page = WebVisitor(running.url, aiohttp.DummyCookieJar(), Cookie=f"hb_web={visitor_id}")
        try:
            await page.say("Xin chào")  # the member has written to the bot from this browser
            client = await running.client()
            await running.request_code(client, "thu")
            for _ in range(50):
                texts = [m["text"] for m in (await page.history())["messages"]]
                codes = [CODE.search(t).group(1) for t in texts if "Mã đăng nhập" in t]
                if codes:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("no code in the web chat")
            home = await client.post("/console/signin/code", {"code": codes[-1]})
            assert "Xin chào, Hộ sinh Thu" in home.text
        finally:
            await page.close()
