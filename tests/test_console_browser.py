"""The web console in a real headless Chromium (issue 18): sign-in with the code the bot sends to
the member's Telegram chat, a resident refused, a ticket answered from the console reaching the
resident on Telegram and on the web chat, CSRF and a forged cookie refused; every page at
1280x800 and 390x844 without sideways scrolling, screenshots kept in $HEALTHBOT_SCREENSHOT_DIR
(default /tmp) as console-<page>-<width>x<height>.png."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.console_helpers import (  # noqa: F401 - fixtures
    ADMIN,
    NURSE,
    ConsoleStack,
    console_stack,
    fake_fixture,
)
from tests.test_browser import chromium_path  # noqa: F401 - the fixture
from tests.test_web_browser import browser  # noqa: F401 - the fixture

SHOTS = Path(os.environ.get("HEALTHBOT_SCREENSHOT_DIR", "/tmp"))
SIZES = ((1280, 800), (390, 844))
RESIDENT = 5561


@pytest.fixture
async def console(settings, fake, clock) -> AsyncIterator[ConsoleStack]:  # noqa: ANN001
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the browser tests run on the embedded default, SQLite")
    async with console_stack(settings, fake, clock) as running:
        yield running


async def sign_in(console: ConsoleStack, page, member) -> None:  # noqa: ANN001
    """Through the sign-in pages (screenshots of both), then as tests/console_helpers does."""
    from playwright.async_api import expect

    await page.goto(console.url + "/console/")
    await expect(page).to_have_url(console.url + "/console/signin")
    await shoot(page, "signin")
    await console.sign_in_browser(page, member, at_code=lambda p: shoot(p, "code"))


async def shoot(page, name: str) -> None:  # noqa: ANN001
    """The page at both sizes, with no sideways scrolling on either."""
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width}x{height}"
        await page.screenshot(path=str(SHOTS / f"console-{name}-{width}x{height}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


async def test_staff_sign_in_and_answer_a_ticket_on_telegram_and_the_web(  # noqa: F811
        console: ConsoleStack, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    on_telegram = await console.file_on_telegram(RESIDENT, "Nước đọng ở hố ga đầu ngõ 12")
    visitor = await console.web_visitor()
    on_web = await visitor.file_feedback("Chờ khám hơn một tiếng")
    context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                         locale="vi-VN")
    page = await context.new_page()
    await sign_in(console, page, NURSE)
    await shoot(page, "home")
    await page.get_by_role("navigation").get_by_role("link", name="Phản ánh").click()
    await expect(page.locator("table.tickets")).to_contain_text(on_web)
    await shoot(page, "tickets")

    for code, text in ((on_telegram, "Đội vệ sinh sẽ hút nước hố ga chiều nay."),
                       (on_web, "Sáng mai trạm mở thêm một bàn khám.")):
        await page.goto(console.url + "/console/tickets")
        await page.get_by_role("link", name=code).click()
        await expect(page.locator("h1")).to_contain_text(code)
        if code == on_web:
            await shoot(page, "ticket")
        await page.fill("#answer", text)
        await page.get_by_role("button", name="Gửi câu trả lời").click()
        await expect(page.locator(".notice")).to_contain_text("đang được gửi tới người dân")
        await expect(page.locator(".thread")).to_contain_text(text)
    await shoot(page, "ticket-answered")

    sent = await console.fake.wait_until(
        lambda: [m for m in console.fake.sent_to(RESIDENT) if "hút nước hố ga" in (m.text or "")])
    assert "Cán bộ Trạm Y tế" in sent[0].text
    for _ in range(50):
        if any("thêm một bàn khám" in m["text"] for m in (await visitor.history())["messages"]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the answer did not reach the web chat")
    await context.close()


async def test_admin_pages_at_both_sizes(console: ConsoleStack, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    code = await console.file_on_telegram(RESIDENT, "Muỗi nhiều ở công viên")
    context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                         locale="vi-VN")
    page = await context.new_page()
    await sign_in(console, page, ADMIN)
    await page.get_by_role("navigation").get_by_role("link", name="Yêu cầu về dữ liệu").click()
    await page.fill("#q", code)
    await page.get_by_role("button", name="Tìm").click()
    await expect(page.locator("dl.facts")).to_contain_text("telegram")
    await shoot(page, "data")
    await page.get_by_role("navigation").get_by_role("link", name="Nhật ký truy cập").click()
    await expect(page.locator("table.list")).to_contain_text("data.view")
    await shoot(page, "audit")
    await page.goto(console.url + "/console/lang/en")
    await expect(page.locator("h1")).to_contain_text("Hello, Y sĩ Hoa")
    await shoot(page, "home-en")
    await context.close()


async def test_a_resident_csrf_and_a_forged_cookie_are_refused(  # noqa: F811
        console: ConsoleStack, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    code = await console.file_on_telegram(RESIDENT, "Cống bị tắc ở ngõ 4")
    ticket_id = await console.ticket_id(code)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    page = await context.new_page()
    # A resident (not in the staff list) gets the same page as staff, and no code works.
    await page.goto(console.url + "/console/signin")
    await page.fill("#handle", "Nguyễn Văn Dân")
    await page.get_by_role("button", name="Gửi mã cho tôi").click()
    await expect(page).to_have_url(console.url + "/console/signin/code")
    await page.fill("#code", "123456")
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.locator(".error")).to_contain_text("Mã không đúng hoặc đã hết hạn")
    await shoot(page, "code-refused")
    await page.goto(console.url + f"/console/tickets/{ticket_id}")
    await expect(page).to_have_url(console.url + "/console/signin")
    assert console.fake.sent_to(RESIDENT)[-1].text.find("Mã đăng nhập") == -1

    await sign_in(console, page, NURSE)
    await page.goto(console.url + f"/console/tickets/{ticket_id}")
    # A form posted from a script without the page's token is refused.
    status = await page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams(
            {text: 'ghi chú giả'})})).status""",
        console.url + f"/console/tickets/{ticket_id}/note")
    assert status == 403
    await page.reload()
    await expect(page.locator(".thread")).not_to_contain_text("ghi chú giả")
    # An altered session cookie is not a session.
    (cookie,) = [c for c in await context.cookies() if c["name"] == "hb_console"]
    token, signature = cookie["value"].split(".")
    await context.clear_cookies()
    await context.add_cookies([{**cookie, "value": token + "." + signature[::-1]}])
    await page.goto(console.url + "/console/tickets")
    await expect(page).to_have_url(console.url + "/console/signin")
    await shoot(page, "forbidden-cookie")
    await context.close()
