"""Staff tools on Zalo Bot, part two: approval by one of two approvers, quiet hours at night,
delivery figures after a broadcast, the morning digest on a fixed date.

Zalo Bot shows text only and cannot edit a sent message, so where Telegram edits every
approver's card, here the other approvers get a note and a stale choice answers "already
decided".
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.config import Settings, StaffMember
from scheduler.dispatcher import Dispatcher
from scheduler.plan import Plan
from scheduler.planner import Planner
from storage import people
from storage.models import BroadcastRecord, Chat
from tests.digest_seed import seed_digest_day
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.test_staff_zalo import pick
from tests.test_zalo_bot import Running, numbered, running_bot, say

NURSE, APPROVER_1, APPROVER_2 = "zl-nurse-01", "zl-approver-1", "zl-approver-2"
RESIDENTS = ("zl-resident-1", "zl-resident-2", "zl-resident-3")


def staffed(settings: Settings, *, approval: bool = False) -> Settings:
    staff = [StaffMember("Chị Lan", "staff", zalo_bot_id=NURSE),
             StaffMember("Anh Minh", "approver", zalo_bot_id=APPROVER_1),
             StaffMember("Chị Thu", "approver", zalo_bot_id=APPROVER_2)]
    return replace(settings, staff=staff,
                   feedback=replace(settings.feedback, staff_chat=f"zalo_bot:{NURSE}"),
                   broadcast=replace(settings.broadcast, require_approval=approval))


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


async def drain(zb: Running) -> None:
    services = zb.bot.services
    await Dispatcher(services.db, services.extras["senders"], services.clock).drain(timeout=20)


async def subscribed(zb: Running, fake: FakeZaloBot) -> None:
    """Two residents who have talked to the bot and subscribed to dengue news."""
    for resident in RESIDENTS:
        await say(fake, "/start", user=resident)
    async with zb.bot.services.db.sessions() as session, session.begin():
        for resident in RESIDENTS:
            chat = (await session.execute(select(Chat).filter_by(
                channel="zalo_bot", external_id=resident))).scalar_one()
            assert chat.person_id is not None
            await people.subscribe(session, chat.person_id, "dengue")


async def test_one_approver_decides_the_other_is_told_and_a_stale_choice_changes_nothing(
        settings: Settings, fake: FakeZaloBot, clock: object) -> None:
    async with running_bot(staffed(settings, approval=True), fake, clock,
                           mode="polling") as zb:
        await subscribed(zb, fake)
        (start,) = await say(fake, "/khancap", user=NURSE)
        await say(fake, pick(start.text or "", "Tự soạn nội dung"), user=NURSE)
        (audience,) = await say(fake, "Ổ dịch sốt xuất huyết tại TDP1: diệt lăng quăng.",
                                user=NURSE)
        (preview,) = await say(fake, pick(audience.text or "", "Tất cả (mọi nhóm và người đăng "
                                          "ký nhận tin)"), user=NURSE)
        assert "Cần người duyệt" in (preview.text or "")
        (asked,) = await say(fake, pick(preview.text or "", "Xác nhận gửi"), user=NURSE)
        assert "Anh Minh" in (asked.text or "") and "Chị Thu" in (asked.text or "")
        await drain(zb)
        assert all(not fake.sent_to(r)[1:] for r in RESIDENTS)  # nothing before approval
        cards = {a: fake.sent_to(a)[-1].text or "" for a in (APPROVER_1, APPROVER_2)}
        for card in cards.values():
            assert card.startswith("Chị Lan đề nghị anh/chị duyệt tin:")
            assert "🚨 Tin khẩn" in card
            assert "Gửi tới: mọi người (tất cả nhóm và người theo dõi), 3 cuộc trò chuyện" in card
            assert "Thứ Hai 23/11/2026" in card and "diệt lăng quăng" in card
        # No buttons on Zalo Bot: the card names the commands that decide.
        approve = re.search(r"/duyet \d+", cards[APPROVER_1])
        reject = re.search(r"/tuchoi \d+", cards[APPROVER_2])
        assert approve and reject
        (approved,) = await say(fake, approve.group(), user=APPROVER_1)
        assert "3 cuộc trò chuyện" in (approved.text or "")
        await drain(zb)
        # Zalo cannot edit the card: the other approver gets a note of who decided.
        note = fake.sent_to(APPROVER_2)[-1].text or ""
        assert note.startswith("✅ Anh Minh đã duyệt lúc") and "Thứ Hai 23/11/2026" in note
        assert any((m.text or "").startswith("✅ Anh Minh đã duyệt")
                   for m in fake.sent_to(APPROVER_1))
        assert any("Anh Minh" in (m.text or "") and "duyệt" in (m.text or "")
                   for m in fake.sent_to(NURSE)[-2:])  # the author is told
        # The stale choice from the old card changes nothing.
        (late,) = await say(fake, reject.group(), user=APPROVER_2)
        assert "đã được quyết định" in (late.text or "")
        for resident in RESIDENTS:
            (alert,) = fake.sent_to(resident)[1:]
            assert (alert.text or "").startswith("🚨 KHẨN – Thông báo từ")
        async with zb.bot.services.db.sessions() as session:
            record = (await session.execute(select(BroadcastRecord))).scalar_one()
        assert (record.status, record.approved_by) == ("queued", "Anh Minh")


async def compose(fake: FakeZaloBot, command: str, text: str) -> str:
    """The nurse types her own message for everyone; returns the reply after the audience."""
    (start,) = await say(fake, command, user=NURSE)
    await say(fake, pick(start.text or "", "Tự soạn nội dung"), user=NURSE)
    (audience,) = await say(fake, text, user=NURSE)
    (after,) = await say(fake, pick(audience.text or "", "Tất cả (mọi nhóm và người đăng ký "
                                    "nhận tin)"), user=NURSE)
    return after.text or ""


async def test_send_now_at_night_offers_the_morning_and_urgent_may_go_anyway(
        settings: Settings, fake: FakeZaloBot, clock: object) -> None:
    clock.now = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # type: ignore[attr-defined]  # 23:30
    async with running_bot(staffed(settings), fake, clock, mode="polling") as zb:
        await subscribed(zb, fake)
        when = await compose(fake, "/phat", "Sáng mai trạm tiêm vắc xin cúm.")
        (night,) = await say(fake, pick(when, "Gửi ngay"), user=NURSE)
        text = night.text or ""
        assert "Bây giờ là giờ yên tĩnh (21:00–07:00)" in text and "ngay bây giờ" not in text
        assert set(numbered(text).values()) == {"Gửi lúc 07:00", "Huỷ"}  # no "anyway": not urgent
        (choice,) = await say(fake, pick(text, "Gửi lúc 07:00"), user=NURSE)
        assert "3 cuộc trò chuyện (0 nhóm, 3 người), 07:00, Thứ Ba 24/11/2026" in (choice.text or "")
        assert "chưa gõ giờ" not in (choice.text or "")  # she chose 07:00, she did not omit it
        (done,) = await say(fake, pick(choice.text or "", "Xác nhận gửi"), user=NURSE)
        assert "Đã hẹn gửi lúc 07:00, Thứ Ba 24/11/2026" in (done.text or "")
        # An urgent alert at night may go at once, after the same honest note.
        urgent = await compose(fake, "/khancap", "Ổ dịch sốt xuất huyết tại TDP1: đậy kín chum vại.")
        assert "Bây giờ là giờ yên tĩnh" in urgent
        assert list(numbered(urgent).values()) == ["Gửi lúc 07:00", "🚨 Vẫn gửi ngay", "Huỷ"]
        (forced,) = await say(fake, pick(urgent, "🚨 Vẫn gửi ngay"), user=NURSE)
        assert "ngay bây giờ" in (forced.text or "")
        await say(fake, pick(forced.text or "", "Xác nhận gửi"), user=NURSE)
        await drain(zb)
        for resident in RESIDENTS:  # the alert now, the ordinary news not at night
            (alert,) = fake.sent_to(resident)[1:]
            assert (alert.text or "").startswith("🚨 KHẨN") and "chum vại" in (alert.text or "")
        # At 07:00 the planner releases the held one.
        services = zb.bot.services
        planner = Planner(services.db, services.settings, services.library,
                          Plan(campaigns=(), region="north"), clock)  # type: ignore[arg-type]
        try:
            assert (await planner.fire_due()).broadcasts == 0
            clock.now = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # type: ignore[attr-defined]
            assert (await planner.fire_due()).broadcasts == 1
        finally:
            await planner.stop()  # lets go of its PostgreSQL lock connection
        await drain(zb)
        for resident in RESIDENTS:
            assert "vắc xin cúm" in (fake.sent_to(resident)[-1].text or "")


async def test_the_author_on_zalo_gets_delivery_figures_after_a_broadcast(
        settings: Settings, fake: FakeZaloBot, clock: object) -> None:
    from bot.broadcast_figures import notify_finished

    async with running_bot(staffed(settings), fake, clock, mode="polling") as zb:
        await subscribed(zb, fake)
        fake.fail_next(RESIDENTS[1], 403, "Forbidden: the user blocked the bot")
        fake.fail_next(RESIDENTS[2], 400, "Bad Request: text is invalid")
        when = await compose(fake, "/phat", "Thứ Bảy trạm khám sức khỏe người cao tuổi.")
        (preview,) = await say(fake, pick(when, "Gửi ngay"), user=NURSE)
        assert "3 cuộc trò chuyện (0 nhóm, 3 người), ngay bây giờ" in (preview.text or "")
        (queued,) = await say(fake, pick(preview.text or "", "Xác nhận gửi"), user=NURSE)
        assert "3" in (queued.text or "")
        services = zb.bot.services
        await drain(zb)
        assert "người cao tuổi" in (fake.sent_to(RESIDENTS[0])[-1].text or "")
        assert await notify_finished(services) == 1
        assert await notify_finished(services) == 0  # told once
        await drain(zb)
        figures = fake.sent_to(NURSE)[-1].text or ""
        assert "đã gửi 1/3, lỗi 1, bị chặn 1" in figures


async def test_morning_digest_on_zalo_on_a_fixed_date(
        settings: Settings, fake: FakeZaloBot, clock: object) -> None:
    from bot.digest import send_digest

    clock.now = datetime(2026, 11, 25, 0, 35, tzinfo=UTC)  # type: ignore[attr-defined]  # Wed 07:35
    now = clock.now  # type: ignore[attr-defined]
    async with running_bot(staffed(settings), fake, clock, mode="polling") as zb:
        services = zb.bot.services
        await seed_digest_day(services, now, channel="zalo_bot", chat_prefix="zr",
                              rating=(5, "Trạm xử lý nhanh"), old_rating=1, old_days=2,
                              broadcast="Tiêm chủng mở rộng")
        assert await send_digest(services) == 1
        await send_digest(services)  # the next minute's run: still one a day
        await drain(zb)
        (digest,) = fake.sent_to(NURSE)
        text = digest.text or ""
        assert text.startswith("Chào buổi sáng") and "ngày 25/11/2026" in text
        assert "• Phản ánh mới: 1 (PA-2026-000001)" in text
        assert "• Quá hạn: 1 (PA-2026-000001)" in text
        assert "• Đến hạn hôm nay: 1 (PA-2026-000002)" in text
        assert "PA-2026-000003: ⭐⭐⭐⭐⭐ 5/5 “Trạm xử lý nhanh”" in text
        assert "PA-2026-000004" not in text  # rated two days ago
        assert "09:35 Tiêm chủng mở rộng" in text
        assert "/dangmo" in text and len(text) <= 2000
        clock.now = datetime(2026, 11, 28, 0, 35, tzinfo=UTC)  # type: ignore[attr-defined]
        assert await send_digest(services) == 0  # Saturday
