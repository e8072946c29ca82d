"""The web chat in a real headless Chromium (issue 14): a resident files feedback on the page,
staff answer on Telegram (FakeTelegram), the open page shows the answer without a reload, the
rating buttons work from the page, a second page shows it once; screenshots on two phone sizes;
English chrome, the menu, the language switch and the remembered text size.

The server runs in the test's process (web + Telegram + the real outbox dispatcher) so the test
can play the staff. Screenshots go to $HEALTHBOT_SCREENSHOT_DIR (default /tmp).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.model import Outbound
from tests.fakes.telegram_api import FakeTelegram
from tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 - the fixture
from tests.web_visitor import STAFF_GROUP, WebStack, staffed, web_stack

SHOTS = Path(os.environ.get("HEALTHBOT_SCREENSHOT_DIR", "/tmp"))
LONG_ANSWER = "Trạm Y tế xin trả lời bác về thời gian chờ tiêm chủng.\n\n" + "\n\n".join(
    f"Điểm {n}: từ tuần sau trạm mở thêm một bàn tiếp đón vào sáng thứ Hai và thứ Năm, "
    "bác có thể đặt giờ trước qua số điện thoại của trạm để không phải chờ lâu."
    for n in range(1, 9)
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def live(settings, fake, clock) -> AsyncIterator[WebStack]:  # noqa: ANN001
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the browser tests run on the embedded default, SQLite")
    async with web_stack(staffed(settings), fake, clock) as stack:
        stop = asyncio.Event()
        dispatching = asyncio.create_task(stack.dispatcher.run_forever(stop))
        try:
            yield stack
        finally:
            stop.set()
            await dispatching


@pytest.fixture
async def browser(chromium_path: Path):  # noqa: ANN201, F811
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def file_feedback(page, text: str) -> str:  # noqa: ANN001
    from playwright.async_api import expect

    await page.get_by_role("button", name="Góp ý / Phản ánh").click()
    await page.get_by_role("button", name="Thời gian chờ").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("mô tả sự việc")
    await expect(page.locator(".msg.bot").last).not_to_contain_text("ảnh"), "no photo promised"
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    await page.locator(".buttons button:enabled", has_text="Tiếp tục").click()
    await page.locator(".buttons button:enabled", has_text="Gửi ẩn danh").click()
    await page.locator(".buttons button:enabled", has_text="Gửi").first.click()
    await expect(page.locator(".msg.bot").last).to_contain_text("PA-")
    words = (await page.locator(".msg.bot").last.inner_text()).split()
    return next(w for w in words if w.startswith("PA-")).rstrip(".,:")


async def in_viewport(page, locator) -> bool:  # noqa: ANN001
    box = await locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + 10 <= size["height"] and box["x"] >= 0


async def test_staff_answer_and_rating_reach_the_open_page_and_a_second_page_once(
    live: WebStack,
    browser,  # noqa: ANN001
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = await context.new_page()
    await page.goto(live.url)
    await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
    code = await file_feedback(page, "Chờ tiêm chủng hơn 2 tiếng")

    await live.staff_says(f"/traloi {code} Trạm xin lỗi bác, tuần sau sẽ thêm bàn tiếp đón.")
    answer = page.locator(".msg.bot", has_text="thêm bàn tiếp đón")
    await expect(answer).to_have_count(1, timeout=2000)  # within 2 s, no reload

    # Staff close the ticket: the rating request arrives and its buttons work from the page.
    card, close = next(
        (m, b["callback_data"])
        for m in live.fake.sent_to(STAFF_GROUP)
        if m.reply_markup
        for row in m.reply_markup["inline_keyboard"]
        for b in row
        if b["text"] == "Đóng"
    )
    await live.staff_closes(close, card.message_id)
    await page.locator(".buttons button:enabled", has_text="★★★★★").click(timeout=2000)
    await expect(page.locator(".msg.bot").last).to_contain_text("5/5")

    # A second page of the same resident, opened later, shows the answer once.
    second = await context.new_page()
    await second.goto(live.url)
    await expect(second.locator(".msg.bot").last).to_contain_text("5/5")
    await expect(second.locator(".msg.bot", has_text="thêm bàn tiếp đón")).to_have_count(1)
    # While the first page is in the background, a new message shows as a count in its title.
    await page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    (cookie,) = [c for c in await context.cookies() if c["name"] == "hb_web"]
    await live.web.sender.send(cookie["value"], Outbound(text="Trạm gửi lịch tiếp đón mới."))
    await expect(page.locator(".msg.bot", has_text="lịch tiếp đón mới")).to_have_count(1)
    assert (await page.title()).startswith("(1) ")
    await expect(second.locator(".msg.bot", has_text="lịch tiếp đón mới")).to_have_count(1)
    await context.close()


@pytest.mark.parametrize("width,height", [(360, 740), (412, 915)])
async def test_a_long_answer_shows_its_first_line_with_the_emergency_call_in_view(
    live: WebStack,
    browser,
    width: int,
    height: int,  # noqa: ANN001
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(
        viewport={"width": width, "height": height},
        locale="vi-VN",
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = await context.new_page()
    await page.goto(live.url)
    await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
    code = await file_feedback(page, "Chờ tiêm chủng hơn 2 tiếng")
    await live.staff_says(f"/traloi {code} {LONG_ANSWER}")
    answer = page.locator(".msg.bot", has_text="Điểm 8")
    await expect(answer).to_have_count(1, timeout=2000)
    await page.wait_for_timeout(200)  # let the scroll settle before measuring
    first_line = answer.get_by_text("Trạm Y tế xin trả lời bác", exact=False).first
    box = await answer.bounding_box()
    assert box and box["height"] > height, "the answer is longer than the screen"
    assert await in_viewport(page, answer), "the answer's first line is on screen"
    header = await page.locator("header").bounding_box()
    assert header and box["y"] >= header["y"] + header["height"] - 1, "not hidden under the header"
    assert await first_line.is_visible()
    assert await in_viewport(page, page.locator("#call-115")), "115 stays on screen"
    assert await in_viewport(page, page.locator("#call-station"))
    assert await in_viewport(page, page.locator("#send"))
    await page.screenshot(path=str(SHOTS / f"webchat-answer-{width}x{height}.png"))
    # The source line of a library answer is one small line that opens on tap.
    await page.get_by_role("button", name="Menu", exact=True).click()
    await page.get_by_role("menuitem", name="Menu chính").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("Menu chính")
    await page.locator(".buttons button:enabled", has_text="Thông tin sức khỏe").click()
    await page.locator(".buttons button:enabled", has_text="Sốt xuất huyết").first.click()
    await page.locator(".buttons button:enabled").first.click()
    source = page.locator(".msg.bot").last.locator("details.source summary")
    await expect(source).to_contain_text("Nguồn")
    line = await source.bounding_box()
    assert line and line["height"] < 40, "one line"
    await page.screenshot(path=str(SHOTS / f"webchat-source-{width}x{height}.png"))
    await source.click()
    await expect(page.locator(".msg.bot").last.locator("details.source")).to_have_attribute(
        "open", ""
    )
    await context.close()


async def test_english_phone_menu_language_switch_and_text_size(
    live: WebStack,
    browser,  # noqa: ANN001
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = await context.new_page()
    await page.goto(live.url)
    await expect(page.locator(".msg.bot").first).to_contain_text("Hello")
    await expect(page.locator("#send")).to_have_text("Send")
    assert await page.get_attribute("#text", "placeholder") == "Type your question…"
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.get_by_role("log")).to_be_visible()
    # Installable: the service worker is running and controls the page's scope.
    scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.active && r.scope)")
    assert scope == live.url + "/"

    menu_button = page.get_by_role("button", name="Menu", exact=True)
    await menu_button.click()
    assert await menu_button.get_attribute("aria-expanded") == "true"
    await page.get_by_role("menuitem", name="My data (see or delete)").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("delete")

    # Text size: larger, remembered after a reload.
    before = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
    await menu_button.click()
    await page.get_by_role("menuitem", name="Larger text").click()
    after = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(after[:-2]) > float(before[:-2])
    await page.reload()
    await expect(page.locator(".msg.bot").first).to_be_visible()
    assert await page.evaluate("getComputedStyle(document.documentElement).fontSize") == after

    # Switching to Vietnamese changes the page and the bot.
    await page.get_by_role("button", name="Menu", exact=True).click()
    await page.get_by_role("menuitem", name="Tiếng Việt / English").click()
    await expect(page.locator("#send")).to_have_text("Gửi")
    await expect(page.locator(".msg.bot").last).to_contain_text("tiếng Việt")
    await context.close()
