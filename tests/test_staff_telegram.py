"""Staff tools on Telegram, end to end: python-telegram-bot against FakeTelegram, the outbox
dispatcher with the Telegram sender. Command menus per staff chat, /toi, ticket lists with paging,
natural dates echoed with the weekday, approval cards closed for every approver, urgent marker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings, StaffMember
from scheduler.dispatcher import Dispatcher
from storage import people
from storage.models import BroadcastRecord, Person, Ticket
from tests.digest_seed import seed_digest_day
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import Running, running_bot, say, tap

ADMIN, APPROVER_1, APPROVER_2, NURSE = 9100, 9201, 9202, 9300
STAFF_GROUP = -4900
RESIDENT = 7400
GROUP_TDP1 = -4901


def staff_settings(settings: Settings, *, approval: bool = False) -> Settings:
    staff = [StaffMember("Y sĩ Hoa", "admin", telegram_id=str(ADMIN)),
             StaffMember("Anh Minh", "approver", telegram_id=str(APPROVER_1)),
             StaffMember("Chị Thu", "approver", telegram_id=str(APPROVER_2)),
             StaffMember("Chị Lan", "staff", telegram_id=str(NURSE))]
    return replace(settings, staff=staff,
                   feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
                   broadcast=replace(settings.broadcast, require_approval=approval))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


def dispatcher(tg: Running, clock: object) -> Dispatcher:
    services = tg.bot.services
    return Dispatcher(services.db, services.extras["senders"], clock)  # type: ignore[arg-type]


def names(commands: list[dict]) -> set[str]:
    return {c["command"] for c in commands}


async def test_each_staff_chat_gets_the_command_menu_of_its_role(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock):
        await fake.wait_until(lambda: fake.commands_for("en", {"type": "chat",
                                                              "chat_id": STAFF_GROUP}))
    def scope(chat: int) -> dict:
        return {"type": "chat", "chat_id": chat}
    default = names(fake.commands_for(""))
    assert "gopy" in default and not default & {"phat", "dangmo", "dong"}
    nurse = names(fake.commands_for("", scope(NURSE)))
    assert {"gopy", "canbo", "dangmo", "quahan", "dong", "phat", "khancap", "toi"} <= nurse
    assert "chan" not in nurse
    approver = names(fake.commands_for("", scope(APPROVER_1)))
    assert {"canbo", "dangmo", "huyphat"} <= approver and not approver & {"phat", "dong", "chan"}
    assert {"chan", "phat", "dong"} <= names(fake.commands_for("", scope(ADMIN)))
    group = names(fake.commands_for("", scope(STAFF_GROUP)))
    assert {"dangmo", "tiepnhan", "dong"} <= group and not group & {"phat", "gopy"}
    english = {c["command"]: c["description"] for c in fake.commands_for("en", scope(NURSE))}
    assert english["quahan"] == "Overdue feedback"
    vietnamese = {c["command"]: c["description"] for c in fake.commands_for("", scope(NURSE))}
    assert vietnamese["quahan"] == "Phản ánh quá hạn"


async def test_toi_tells_a_new_colleague_her_id(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock):
        (reply,) = await say(fake, 7777, "/toi")
        assert "7777" in reply.text and 'telegram_id = "7777"' in reply.text
        assert "chưa có trong danh sách cán bộ" in reply.text
        (reply,) = await say(fake, NURSE, "/toi")
        assert "Chị Lan" in reply.text and "cán bộ" in reply.text
        # A resident trying a staff command gets a clean refusal, not an error.
        (refusal,) = await say(fake, 7777, "/dangmo")
        assert "chỉ dành cho cán bộ" in refusal.text


async def add_tickets(tg: Running, count: int, clock: object) -> None:
    now = clock()  # type: ignore[operator]
    async with tg.bot.services.db.sessions() as session, session.begin():
        for n in range(1, count + 1):
            session.add(Ticket(
                code=f"PA-2026-{n:06d}", channel="web", chat_id=f"r{n}", category="other",
                urgency="urgent" if n == count else "normal", text=f"Phản ánh số {n}",
                status="new", accept_due=now + timedelta(hours=1 if n % 2 else -1),
                resolve_due=now + timedelta(days=5), created_at=now - timedelta(days=count - n),
                assignee="Chị Lan" if n <= 2 else None))


async def test_ticket_lists_page_through_and_open_a_card(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        await add_tickets(tg, 7, clock)
        (menu,) = await say(fake, NURSE, "/canbo")
        assert "Phản ánh đang mở" in [b["text"] for b in menu.buttons]
        (first,) = await tap(fake, NURSE, "tl:open:0", menu.message_id)
        assert "Phản ánh đang mở: 7 (trang 1/2)" in first.text
        # The urgent one comes first, then the oldest.
        assert first.text.splitlines()[2].startswith("🚨 PA-2026-000007")
        assert "PA-2026-000001" in first.text and "PA-2026-000005" not in first.text
        labels = [b["text"] for b in first.buttons]
        assert labels[-1] == "Trang sau ▶" and len([x for x in labels if x.startswith("Xem")]) == 5
        (second,) = await tap(fake, NURSE, first.callback_data[-1], first.message_id)
        assert "trang 2/2" in second.text and "PA-2026-000006" in second.text
        assert [b["text"] for b in second.buttons][-1] == "◀ Trang trước"
        (card,) = await tap(fake, NURSE, second.callback_data[0], second.message_id)
        assert "PA-2026-000005" in card.text and "Trạng thái: mới" in card.text
        assert "tk:close:5" in card.callback_data
        (mine,) = await say(fake, NURSE, "/cuatoi")
        assert "Phản ánh tôi đang xử lý: 2" in mine.text
        (late,) = await say(fake, NURSE, "/quahan")
        assert "Phản ánh quá hạn: 3" in late.text and "⏰" in late.text
        (figures,) = await say(fake, NURSE, "/baocao")
        assert "Phản ánh đang mở: 7" in figures.text and "Quá hạn: 3" in figures.text
        # An approver may look at a card but gets no handling buttons.
        (card,) = await tap(fake, APPROVER_1, "tko:5", late.message_id)
        assert "PA-2026-000005" in card.text and card.callback_data == []


async def residents(tg: Running) -> None:
    async with tg.bot.services.db.sessions() as session, session.begin():
        chat = await people.ensure_chat(session, "telegram", str(GROUP_TDP1), "group", None)
        chat.area_code = "TDP1"
        person = Person(locale="vi", area_code="TDP1")
        session.add(person)
        await session.flush()
        await people.ensure_chat(session, "telegram", str(RESIDENT), "private", person.id)
        await people.subscribe(session, person.id, "dengue")


async def test_a_natural_date_is_echoed_with_its_weekday_before_anything_is_sent(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        await residents(tg)
        (start,) = await say(fake, NURSE, "/phat")
        assert "bc:quit" in start.callback_data
        (prompt,) = await tap(fake, NURSE, "bc:text", start.message_id)
        assert "bc:quit" in prompt.callback_data  # cancel on every step
        (audience,) = await say(fake, NURSE, "Chiều thứ 6 tuần sau trạm tiêm phòng dại.")
        assert "bc:quit" in audience.callback_data
        (when,) = await tap(fake, NURSE, "bc:a:area:TDP1", audience.message_id)
        assert "bc:quit" in when.callback_data
        (ask,) = await tap(fake, NURSE, "bc:w:later", when.message_id)
        assert "mai 8h" in ask.text and "bc:quit" in ask.callback_data
        (preview,) = await say(fake, NURSE, "thứ 6 tuần sau 7h30")
        assert "07:30, Thứ Sáu 04/12/2026" in preview.text
        assert "2 cuộc trò chuyện" in preview.text
        (done,) = await tap(fake, NURSE, "bc:ok", preview.message_id)
        assert "07:30, Thứ Sáu 04/12/2026" in done.text
        (gone,) = await say(fake, NURSE, "/huyphat")
        assert "Thứ Sáu 04/12/2026" in gone.buttons[0]["text"]


async def test_every_approvers_card_is_closed_once_one_decides_and_urgent_is_marked(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings, approval=True), fake, clock) as tg:
        await residents(tg)
        (start,) = await say(fake, NURSE, "/khancap")
        (prompt,) = await tap(fake, NURSE, "bc:text", start.message_id)
        (audience,) = await say(fake, NURSE, "Ổ dịch sốt xuất huyết tại TDP1: diệt lăng quăng.")
        (preview,) = await tap(fake, NURSE, "bc:a:area:TDP1", audience.message_id)
        assert "🚨 Tin khẩn." in preview.text and "Cần người duyệt" in preview.text
        (asked,) = await tap(fake, NURSE, "bc:ok", preview.message_id)
        assert "Anh Minh" in asked.text and "Chị Thu" in asked.text and "Y sĩ Hoa" in asked.text
        await dispatcher(tg, clock).drain(timeout=20)
        cards = {chat: fake.sent_to(chat)[-1] for chat in (APPROVER_1, APPROVER_2, ADMIN)}
        for card in cards.values():
            assert "Chị Lan đề nghị anh/chị duyệt tin" in card.text
            assert "🚨 Tin khẩn" in card.text
            assert "Gửi tới: người dân Tổ dân phố 1, 2 cuộc trò chuyện" in card.text
            assert "Thứ Hai 23/11/2026" in card.text
            assert card.callback_data[0].startswith("bcy:")
        stale = cards[APPROVER_2].callback_data[1]  # Từ chối, kept to replay later
        (approved,) = await tap(fake, APPROVER_1, cards[APPROVER_1].callback_data[0],
                                cards[APPROVER_1].message_id)
        assert "Đã xếp lịch gửi tới 2" in approved.text
        await asyncio.sleep(0.1)
        await dispatcher(tg, clock).drain(timeout=20)
        for chat in (APPROVER_1, APPROVER_2, ADMIN):
            card = next(m for m in fake.sent_to(chat) if m.message_id == cards[chat].message_id)
            assert card.edit_count == 1 and card.callback_data == []
            assert card.text.startswith("✅ Anh Minh đã duyệt lúc")
        # A stale tap by the second approver changes nothing.
        (late,) = await tap(fake, APPROVER_2, stale, cards[APPROVER_2].message_id)
        assert "đã được quyết định" in late.text
        (news,) = fake.sent_to(GROUP_TDP1)
        assert news.text.startswith("🚨 KHẨN")
        async with tg.bot.services.db.sessions() as session:
            record = (await session.execute(select(BroadcastRecord))).scalar_one()
        assert (record.status, record.approved_by) == ("queued", "Anh Minh")


async def test_a_rating_and_its_comment_reach_the_staff_group(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        def user_say(chat: int, user: int, text: str, **kw: object) -> object:
            return say(fake, chat, text, user_id=user, **kw)

        await user_say(RESIDENT, RESIDENT, "/gopy")
        await tap(fake, RESIDENT, "fb:cat:waiting", 1)
        await user_say(RESIDENT, RESIDENT, "Chờ tiêm chủng 2 tiếng")
        await tap(fake, RESIDENT, "fb:more", 1)
        await tap(fake, RESIDENT, "fb:anon", 1)
        await tap(fake, RESIDENT, "fb:send", 1)
        await user_say(STAFF_GROUP, ADMIN, "/traloi PA-2026-000001 Trạm xin lỗi, sẽ thêm bàn.")
        await user_say(STAFF_GROUP, ADMIN, "/dong PA-2026-000001")
        await dispatcher(tg, clock).drain(timeout=20)
        closing = fake.sent_to(RESIDENT)[-1]
        (thanks,) = await tap(fake, RESIDENT, closing.callback_data[3], closing.message_id)
        assert "4/5" in thanks.text
        await user_say(RESIDENT, RESIDENT, "Cán bộ nhiệt tình nhưng chờ hơi lâu")
        await dispatcher(tg, clock).drain(timeout=20)
        texts = [m.text or "" for m in fake.sent_to(STAFF_GROUP)]
        rating = next(t for t in texts if "đánh giá PA-2026-000001" in t)
        assert rating.startswith("⭐⭐⭐⭐ Người dân đánh giá PA-2026-000001: 4/5 sao.")
        assert "Y sĩ Hoa" in rating
        assert any("Nhận xét về PA-2026-000001 (4/5 sao): “Cán bộ nhiệt tình nhưng chờ hơi lâu”"
                   in t for t in texts)


async def test_the_author_gets_delivery_figures_and_the_cli_lists_them(
        settings: Settings, fake: FakeTelegram, clock: object, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.broadcast_figures import notify_finished
    from bot.cli import main

    async with running_bot(staff_settings(settings), fake, clock) as tg:
        await residents(tg)
        fake.blocked.add(RESIDENT)  # this resident has blocked the bot since subscribing
        (start,) = await say(fake, NURSE, "/phat")
        (prompt,) = await tap(fake, NURSE, "bc:text", start.message_id)
        (audience,) = await say(fake, NURSE, "Thứ Bảy trạm khám sức khỏe người cao tuổi.")
        (when,) = await tap(fake, NURSE, "bc:a:area:TDP1", audience.message_id)
        (preview,) = await tap(fake, NURSE, "bc:w:now", when.message_id)
        await tap(fake, NURSE, "bc:ok", preview.message_id)
        assert await notify_finished(tg.bot.services) == 0  # nothing has gone yet
        await dispatcher(tg, clock).drain(timeout=20)
        assert len(fake.sent_to(GROUP_TDP1)) == 1
        assert await notify_finished(tg.bot.services) == 1
        assert await notify_finished(tg.bot.services) == 0  # told once
        await dispatcher(tg, clock).drain(timeout=20)
        assert "đã gửi 1/2, lỗi 0, bị chặn 1" in fake.sent_to(NURSE)[-1].text
    config = tmp_path / "healthbot.toml"
    config.write_text(f'[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    assert await asyncio.to_thread(main, ["broadcasts", "--config", str(config), "--days",
                                          "3650", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["kind"], row["author"], row["sent"], row["total"], row["blocked"],
            row["errors"]) == ("staff", "Chị Lan", 1, 2, 1, 0)
    assert await asyncio.to_thread(main, ["broadcasts", "--config", str(config), "--days",
                                          "3650"]) == 0
    table = capsys.readouterr().out
    assert "1/2" in table and "Thứ Bảy trạm khám" in table


async def test_morning_digest_on_a_fixed_date(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    from datetime import UTC, datetime

    from bot.digest import send_digest

    # Wednesday 25/11/2026, 07:35 in Hanoi.
    clock.now = datetime(2026, 11, 25, 0, 35, tzinfo=UTC)  # type: ignore[attr-defined]
    now = clock.now  # type: ignore[attr-defined]
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        services = tg.bot.services
        await seed_digest_day(services, now, channel="web", chat_prefix="r",
                              rating=(4, "Cán bộ tận tình"), old_rating=2, old_days=3,
                              broadcast="Tiêm chủng")
        assert await send_digest(services) == 1
        await send_digest(services)  # the next minute's run: still one per chat and day
        await dispatcher(tg, clock).drain(timeout=20)
        (digest,) = fake.sent_to(STAFF_GROUP)
        text = digest.text
        assert "ngày 25/11/2026" in text
        assert "• Phản ánh mới: 1 (PA-2026-000001)" in text
        assert "• Quá hạn: 1 (PA-2026-000001)" in text
        assert "• Đến hạn hôm nay: 1 (PA-2026-000002)" in text
        assert "PA-2026-000003: ⭐⭐⭐⭐ 4/5 “Cán bộ tận tình”" in text
        assert "PA-2026-000004" not in text  # rated three days ago
        assert "09:35 Tiêm chủng" in text
        # Not before the configured time, and not on Saturday.
        clock.now = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # type: ignore[attr-defined]
        assert await send_digest(services) == 0  # 07:00, the digest is at 07:30
        clock.now = datetime(2026, 11, 28, 0, 35, tzinfo=UTC)  # type: ignore[attr-defined]
        assert await send_digest(services) == 0
