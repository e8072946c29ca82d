"""Staff tools on Zalo Bot, end to end over HTTP against FakeZaloBot (no buttons: numbered menus).

A nurse who works from Zalo: the staff menu by role, /help by role, /toi, the open list and a
ticket's card, close with a confirmation step, a resident's rating relayed to her, an urgent alert
with its marker, a resident refused a staff command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings, StaffMember
from scheduler.dispatcher import Dispatcher
from storage.models import Chat, Ticket
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.test_zalo_bot import Running, numbered, running_bot, say

NURSE, APPROVER, RESIDENT = "zl-nurse-01", "zl-approver-1", "zl-resident-9"


def staffed(settings: Settings) -> Settings:
    staff = [StaffMember("Chị Lan", "staff", zalo_bot_id=NURSE),
             StaffMember("Anh Minh", "approver", zalo_bot_id=APPROVER)]
    return replace(settings, staff=staff,
                   feedback=replace(settings.feedback, staff_chat=f"zalo_bot:{NURSE}"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def zb(settings: Settings, fake: FakeZaloBot, clock: object) -> AsyncIterator[Running]:
    async with running_bot(staffed(settings), fake, clock, mode="polling") as running:
        yield running


def pick(text: str, label: str) -> str:
    """The number to type for a numbered menu item."""
    for number, item in numbered(text).items():
        if item == label:
            return str(number)
    raise AssertionError(f"no item {label!r} in {numbered(text)}")


async def drain(zb: Running) -> None:
    services = zb.bot.services
    await Dispatcher(services.db, services.extras["senders"], services.clock).drain(timeout=20)


async def test_menu_and_help_by_role_on_zalo(zb: Running, fake: FakeZaloBot) -> None:
    (menu,) = await say(fake, "/canbo", user=NURSE)
    items = set(numbered(menu.text or "").values())
    assert {"Phát tin", "🚨 Tin khẩn", "Phản ánh đang mở", "Quá hạn", "Hướng dẫn"} <= items
    (menu,) = await say(fake, "/canbo", user=APPROVER)
    items = set(numbered(menu.text or "").values())
    assert "Phản ánh đang mở" in items and "Phát tin" not in items
    (helped,) = await say(fake, "/trogiup", user=NURSE)
    assert "/dangmo" in (helped.text or "") and "/chan" not in (helped.text or "")
    (me,) = await say(fake, "/toi", user=NURSE)
    assert NURSE in (me.text or "") and "Chị Lan" in (me.text or "")
    (stranger,) = await say(fake, "/toi", user="zl-new-colleague")
    assert 'zalo_bot_id = "zl-new-colleague"' in (stranger.text or "")
    (refusal,) = await say(fake, "/dangmo", user=RESIDENT)
    assert "chỉ dành cho cán bộ" in (refusal.text or "")
    (refusal,) = await say(fake, "/phat", user=APPROVER)
    assert "không được làm việc này" in (refusal.text or "")


async def test_list_card_close_with_confirmation_and_rating_on_zalo(
        zb: Running, fake: FakeZaloBot, clock: object) -> None:
    now = clock()  # type: ignore[operator]
    await say(fake, "/start", user=RESIDENT)  # the resident has talked to the bot before
    async with zb.bot.services.db.sessions() as session, session.begin():
        chat = (await session.execute(select(Chat).filter_by(
            channel="zalo_bot", external_id=RESIDENT))).scalar_one()
        session.add(Ticket(code="PA-2026-000001", person_id=chat.person_id, channel="zalo_bot",
                           chat_id=RESIDENT, category="other", text="Rác ở ngõ 3", status="new",
                           accept_due=now + timedelta(hours=2), resolve_due=now + timedelta(days=5),
                           created_at=now, staff_chat=f"zalo_bot:{NURSE}"))
    (menu,) = await say(fake, "/canbo", user=NURSE)
    (listed,) = await say(fake, pick(menu.text or "", "Phản ánh đang mở"), user=NURSE)
    assert "Phản ánh đang mở: 1 (trang 1/1)" in (listed.text or "")
    (card,) = await say(fake, pick(listed.text or "", "Xem PA-2026-000001"), user=NURSE)
    assert "Rác ở ngõ 3" in (card.text or "") and "/dong PA-2026-000001" in (card.text or "")
    # Answer first; then on Zalo the card's numbered actions include Đóng, which asks first.
    await say(fake, "/traloi PA-2026-000001 Đã cho thu gom rác, cảm ơn bác.", user=NURSE)
    await drain(zb)
    before = len(fake.sent_to(RESIDENT))
    await say(fake, "/canbo", user=NURSE)
    (opened,) = await say(fake, "/dangmo", user=NURSE)
    (card,) = await say(fake, pick(opened.text or "", "Xem PA-2026-000001"), user=NURSE)
    (confirm,) = await say(fake, pick(card.text or "", "Đóng"), user=NURSE)
    assert "Đóng phản ánh PA-2026-000001?" in (confirm.text or "")
    (kept,) = await say(fake, pick(confirm.text or "", "Không, để mở"), user=NURSE)
    assert "vẫn đang mở" in (kept.text or "")
    async with zb.bot.services.db.sessions() as session:
        assert (await session.execute(select(Ticket.status))).scalar_one() == "answered"
    (card,) = await say(fake, "/dangmo", user=NURSE)
    (card,) = await say(fake, pick(card.text or "", "Xem PA-2026-000001"), user=NURSE)
    (confirm,) = await say(fake, pick(card.text or "", "Đóng"), user=NURSE)
    (closed,) = await say(fake, pick(confirm.text or "", "Đồng ý đóng"), user=NURSE)
    assert "PA-2026-000001" in (closed.text or "")
    await drain(zb)
    closing = fake.sent_to(RESIDENT)[-1]
    assert len(fake.sent_to(RESIDENT)) > before and "PA-2026-000001" in (closing.text or "")
    (thanks,) = await say(fake, "5", user=RESIDENT)
    assert "5/5" in (thanks.text or "")
    await drain(zb)
    assert any("Người dân đánh giá PA-2026-000001: 5/5 sao" in (m.text or "")
               for m in fake.sent_to(NURSE))


async def test_urgent_alert_from_zalo_reaches_residents_with_the_marker(
        zb: Running, fake: FakeZaloBot) -> None:
    from storage import people

    await say(fake, "/start", user=RESIDENT)
    async with zb.bot.services.db.sessions() as session, session.begin():
        chat = (await session.execute(select(Chat).filter_by(
            channel="zalo_bot", external_id=RESIDENT))).scalar_one()
        assert chat.person_id is not None
        await people.subscribe(session, chat.person_id, "dengue")
    (start,) = await say(fake, "/khancap", user=NURSE)
    assert "Huỷ" in numbered(start.text or "").values()  # cancel on every step
    await say(fake, pick(start.text or "", "Tự soạn nội dung"), user=NURSE)
    (audience,) = await say(fake, "Ổ dịch sốt xuất huyết tại TDP1: đậy kín chum vại, diệt lăng "
                            "quăng; sốt cao thì đến trạm.", user=NURSE)
    (preview,) = await say(fake, pick(audience.text or "", "Tất cả (mọi nhóm và người đăng ký "
                                      "nhận tin)"), user=NURSE)
    assert "🚨 Tin khẩn." in (preview.text or "") and "1 cuộc trò chuyện" in (preview.text or "")
    await say(fake, pick(preview.text or "", "Xác nhận gửi"), user=NURSE)
    await drain(zb)
    alert = fake.sent_to(RESIDENT)[-1]
    assert (alert.text or "").startswith("🚨 KHẨN – Thông báo từ")
