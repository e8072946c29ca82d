"""The console's calendar, broadcasts, unanswered questions and reports (issue 18, points 3–5) in a
real headless Chromium, against the running stack (web + console + fake Telegram + the outbox
dispatcher): a broadcast composed in the console, approved by a second staff member in the chat
and shown delivered with its figures; next month's campaigns in the calendar (fixed clock); an
unanswered-questions group exported as YAML and another answered to the resident on Telegram; the
report's figures and its DOCX / XLSX downloads. Screenshots of every page at 1280x800 and 390x844
(no sideways scrolling) go to $HEALTHBOT_SCREENSHOT_DIR (default /tmp)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.model import TELEGRAM
from storage.models import BroadcastRecord
from tests.console_helpers import (  # noqa: F401
    APPROVER,
    NURSE,
    PROVINCE,
    console_stack,
    fake_fixture,
)
from tests.report_seed import seed
from tests.test_broadcast import with_group_and_subscriber
from tests.test_browser import chromium_path  # noqa: F401 - the fixture
from tests.test_console_browser import shoot as shoot_both
from tests.test_web_browser import browser  # noqa: F401 - the fixture
from tests.transcript import Transcript

GROUP, SUBSCRIBER = -700, 701  # tests.test_broadcast.with_group_and_subscriber


@pytest.fixture
async def live(settings, fake, clock) -> AsyncIterator[Any]:  # noqa: ANN001
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the browser tests run on the embedded default, SQLite")
    approving = replace(settings, broadcast=replace(settings.broadcast, require_approval=True))
    async with console_stack(approving, fake, clock) as stack:
        yield stack


async def signed_in(live: Any, chromium: Any, member: Any) -> Any:
    """A browser page signed in as `member`, with the code received on their fake Telegram."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 800},
                                         locale="vi-VN")
    page = await context.new_page()
    await live.sign_in_browser(page, member)
    return page


async def shoot(page: Any, url: str | None, name: str) -> None:
    """Screenshots of a page (at `url`, or as it is) at both sizes, never scrolling sideways."""
    if url is not None:
        await page.goto(url)
    await shoot_both(page, name)


async def test_broadcast_composed_approved_in_the_chat_and_delivered(live, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    await with_group_and_subscriber(live.bot)
    page = await signed_in(live, browser, NURSE)
    await page.goto(live.url + "/console/broadcasts/new")
    await page.fill("#text", "Chủ nhật này trạm khám miễn phí cho người cao tuổi.")
    await page.get_by_role("button", name="Xem trước").click()
    await expect(page.locator("#count")).to_contain_text("2 cuộc trò chuyện (1 nhóm, 1 người)")
    await expect(page.locator(".channel-telegram .bubble").first).to_contain_text(
        "Thông báo từ")
    await expect(page.locator(".channel-zalo_bot .bubble").first).to_contain_text("miễn phí")
    await shoot(page, None, "compose")  # the composer with its preview
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.locator("#status")).to_have_text("chờ duyệt")
    broadcast_id = int(page.url.rsplit("/", 1)[1])

    # The approver gets the chat's own card on Telegram and approves it there.
    approver = int(APPROVER.telegram_id)
    cards = await live.fake.wait_for_sent(approver, 1)
    card = next(m for m in cards if f"bcy:{broadcast_id}" in str(m.reply_markup))
    await live.fake.push_callback(approver, approver, f"bcy:{broadcast_id}", card.message_id)
    await live.fake.wait_for_sent(GROUP, 1)
    await live.fake.wait_for_sent(SUBSCRIBER, 1)
    assert "miễn phí" in live.fake.sent_to(GROUP)[-1].text
    for _ in range(50):  # the dispatcher records the outcome just after the send
        await page.reload()
        if await page.locator("#figures li").first.inner_text() == "2\nđã nhận":
            break
        await asyncio.sleep(0.1)
    await expect(page.locator("#status")).to_have_text("đã gửi")
    await expect(page.locator("#figures li").first).to_contain_text("2")
    await expect(page.locator("dl.facts")).to_contain_text(APPROVER.name)
    async with live.bot.services.db.sessions() as session:
        record = await session.get(BroadcastRecord, broadcast_id)
    assert (record.created_by, record.approved_by) == (NURSE.name, APPROVER.name)
    await shoot(page, live.url + f"/console/broadcasts/{broadcast_id}", "broadcast")
    await shoot(page, live.url + "/console/broadcasts", "broadcasts")
    await page.context.close()


async def test_calendar_shows_next_months_campaigns(live, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    page = await signed_in(live, browser, APPROVER)  # the fixed clock: 23/11/2026
    await page.goto(live.url + "/console/calendar")
    await expect(page.locator("h1")).to_contain_text("11/2026")
    await page.get_by_role("link", name="Tháng sau →").click()
    await expect(page.locator("h1")).to_contain_text("12/2026")
    # The default plan (north): flu every Friday in winter, BHYT renewal every Wednesday, named
    # by the plan item they serve; the plan id only in the title attribute.
    flu = page.locator('td[data-day="2026-12-04"] .event')
    await expect(flu).to_contain_text("08:00 Phòng, chống cúm mùa")
    await expect(flu).to_have_attribute("title", re.compile("mã trong kế hoạch: flu-north-winter"))
    await expect(page.locator('td[data-day="2026-12-09"] .event')).to_contain_text("09:00")
    await expect(page.locator(".running")).to_contain_text("Phòng, chống cúm mùa")
    await expect(page.locator(".running")).not_to_contain_text("flu-north-winter")
    await shoot(page, live.url + "/console/calendar?month=2026-12", "calendar")
    await page.context.close()


async def test_province_staff_see_every_stations_calendar_or_pick_one(
        settings, fake, clock, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the browser tests run on the embedded default, SQLite")
    async with console_stack(settings, fake, clock, staff=(NURSE, PROVINCE)) as stack:
        page = await signed_in(stack, browser, PROVINCE)  # the fixed clock: 23/11/2026
        await page.goto(stack.url + "/console/calendar")
        # Every station: the yearly-report reminder is station 1's, the flu campaign everyone's.
        reminder = page.locator('td[data-day="2026-11-03"] .event', has_text="Báo cáo năm")
        await expect(reminder).to_contain_text("08:00 Báo cáo năm")
        await expect(reminder).to_contain_text("Trạm Y tế phường Mẫu")
        flu = page.locator('td[data-day="2026-11-06"] .event').first
        await expect(flu).to_contain_text("Phòng, chống cúm mùa")
        await expect(flu).to_contain_text("mọi trạm")
        await shoot(page, None, "calendar-province")
        await page.select_option("#station", "2")
        await page.get_by_role("button", name="Xem").click()
        await expect(page).to_have_url(re.compile(r"station=2"))
        await expect(reminder).to_have_count(0)
        await expect(page.locator('td[data-day="2026-11-06"] .event').first).to_have_text(
            "08:00 Phòng, chống cúm mùa")
        await page.get_by_role("link", name="Tháng sau →").click()
        await expect(page).to_have_url(re.compile(r"month=2026-12&station=2"))
        await page.context.close()


async def test_unanswered_group_exported_and_another_answered_to_the_resident(
        live, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    for chat_id, question in ((7101, "Trạm có bán kính lão không?"),
                              (7102, "tram co ban kinh lao ko"),
                              (7103, "Giá gửi xe máy ở trạm bao nhiêu")):
        await Transcript(live.bot, TELEGRAM, "telegram", str(chat_id)).say(question)
    page = await signed_in(live, browser, NURSE)
    await page.goto(live.url + "/console/questions")
    glasses = page.locator("section.group", has_text="bán kính lão")
    await expect(glasses.locator(".badge")).to_have_text("2 lần")
    await shoot(page, live.url + "/console/questions", "questions")
    await glasses.get_by_role("button", name="Bổ sung vào thư viện").click()
    await expect(page.locator("section.group")).to_have_count(1)  # the library tab
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Tải tất cả dạng YAML").click()
    (entry,) = yaml.safe_load(Path(await (await download.value).path()).read_text())
    assert entry["questions"]["vi"] == ["Trạm có bán kính lão không?", "tram co ban kinh lao ko"]
    assert entry["status"] == "draft"

    await page.get_by_role("link", name="Đang mở").click()
    parking = page.locator("section.group", has_text="gửi xe máy")
    await parking.locator("textarea").fill("Trạm có chỗ gửi xe miễn phí trước cổng.")
    await parking.get_by_role("button", name="Gửi câu trả lời").click()
    await expect(page.locator("#outcome")).to_contain_text("cho 1 người")
    answer = (await live.fake.wait_for_sent(7103, 1))[-1]
    assert "chỗ gửi xe miễn phí" in (answer.text or "")
    assert "Giá gửi xe máy" in (answer.text or "")
    await page.context.close()


async def test_report_page_shows_figures_and_downloads_its_files(live, browser) -> None:  # noqa: ANN001, F811
    from playwright.async_api import expect

    async with live.bot.services.db.sessions() as session, session.begin():
        await seed(session)
    page = await signed_in(live, browser, NURSE)
    await page.goto(live.url + "/console/reports?period=2026-H1")
    await expect(page.locator("#summary li").first).to_be_visible()
    await expect(page.locator("img.chart")).to_have_count(4)
    files = {}
    for fmt in ("DOCX", "XLSX"):
        async with page.expect_download() as download:
            await page.get_by_role("link", name=f"Tải {fmt}").click()
        got = await download.value
        assert got.suggested_filename == f"bao-cao-2026-H1.{fmt.lower()}"
        files[fmt] = io.BytesIO(Path(await got.path()).read_bytes())
    assert "6 tháng đầu năm 2026" in "\n".join(p.text for p in Document(files["DOCX"]).paragraphs)
    assert load_workbook(files["XLSX"]).sheetnames[:2] == ["Tổng hợp", "Truyền thông"]
    await shoot(page, live.url + "/console/reports?period=2026-H1", "reports")
    await page.context.close()


async def test_composer_refused_to_an_approver_and_calendar_to_no_one(live) -> None:  # noqa: ANN001
    approver = await live.sign_in(APPROVER)
    assert (await approver.get("/console/broadcasts/new")).status == 403
    assert (await approver.get("/console/calendar")).status == 200
    stranger = await live.client()
    assert (await stranger.get("/console/calendar", follow=False)).status == 303
    async with live.bot.services.db.sessions() as session:
        assert (await session.execute(select(BroadcastRecord))).first() is None
