"""Check-up invitations (issue 20): the subscribers of the session's areas privately (with a
button), the areas' resident groups (a post without buttons), nobody else; created late in the
evening, they wait for the end of the quiet hours.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM, Outbound
from storage.models import Chat, Outbox
from tests.conftest import FakeClock
from tests.transcript import Transcript


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    staff = [StaffMember(name="Y sĩ Lan", role="staff", telegram_id="55")]
    services = build_services(replace(settings, staff=staff), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def resident(bot, user: str, area: str) -> None:  # noqa: ANN001
    chat = Transcript(bot, TELEGRAM, "telegram", user)
    await chat.say(f"/start {area}")
    await chat.say("/theodoi")
    await chat.tap("sub:*")


async def test_invitations_reach_the_areas_subscribers_and_groups_after_quiet_hours(
    bot, clock: FakeClock  # noqa: ANN001
) -> None:
    await resident(bot, "701", "TDP1")
    await resident(bot, "702", "TDP2")
    await resident(bot, "703", "TDP3")  # another area: not invited
    group = Transcript(bot, TELEGRAM, "telegram", "-100901", user_id="701", chat_kind="group")
    await group.send(text="/menu", addressed=True)
    async with bot.services.db.sessions() as session, session.begin():
        await session.execute(update(Chat).where(Chat.external_id == "-100901")
                              .values(area_code="TDP1"))
    clock.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam: quiet hours
    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/taokham 01/12/2026 07:30-10:30; Nhà văn hoá; TDP1,TDP2; 5; Người cao tuổi")
    assert "Lời mời đã xếp hàng: 3" in staff.text

    async with bot.services.db.sessions() as session:
        rows = list((await session.execute(
            select(Outbox).where(Outbox.dedupe_key.like("checkup-invite:%")).order_by(Outbox.id)
        )).scalars())  # fmt: skip
    by_chat = {r.chat_id: r for r in rows}
    assert set(by_chat) == {"701", "702", "-100901"}
    assert {r.not_before for r in rows} == {datetime(2026, 11, 24, 0, 0, tzinfo=UTC)}  # 07:00
    private = Outbound.from_payload(by_chat["701"].payload)
    assert [b.data for b in private.all_buttons()] == ["ck:s:1"]
    assert "Ưu tiên: Người cao tuổi" in private.text and "Tổ dân phố 1, Tổ dân phố 2" in private.text
    post = Outbound.from_payload(by_chat["-100901"].payload)
    assert post.buttons == () and "/khamsuckhoe" in post.text


async def test_wrong_session_lines_are_explained(bot) -> None:  # noqa: ANN001
    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    for line, expected in (
        ("/taokham 31/02/2026 07:30-10:30; Trạm; *; 5", "Ngày hoặc khung giờ chưa đúng"),
        ("/taokham 01/12/2026 10:30-07:30; Trạm; *; 5", "Ngày hoặc khung giờ chưa đúng"),
        ("/taokham 01/12/2026 07:30-10:30; Trạm; TDP9; 5", "Không có khu vực này"),
        ("/taokham 01/12/2026 07:30-10:30; Trạm; *; mười", "Số chỗ mỗi 30 phút"),
        ("/taokham 01/11/2026 07:30-10:30; Trạm; *; 5", "thời gian sắp tới"),
    ):
        await staff.say(line)
        assert expected in staff.text, line
    await staff.say("/dskham")
    assert "Chưa có buổi khám nào" in staff.text


async def test_a_time_already_begun_cannot_be_booked(bot, clock: FakeClock) -> None:  # noqa: ANN001
    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/taokham 24/11/2026 07:30-08:00; Trạm; *; 5")
    chat = Transcript(bot, TELEGRAM, "telegram", "720")
    await chat.say("/khamsuckhoe")
    await chat.tap("ck:s:1")
    await chat.tap("07:30 (còn 5 chỗ)")
    await chat.tap("Tôi đồng ý")
    await chat.say("Ngô Thị Muộn")
    await chat.say("1949")
    clock.now = datetime(2026, 11, 24, 0, 45, tzinfo=UTC)  # 07:45 that day: the time has begun
    await chat.say("0912000111")
    assert "không còn mở đặt lịch" in chat.text and "Đã đặt lịch" not in chat.text
    async with bot.services.db.sessions() as session:
        from storage.models import CheckupBooking

        assert list((await session.execute(select(CheckupBooking))).scalars()) == []


async def test_who_did_not_come_gets_one_friendly_follow_up_with_the_next_session(
    bot, clock: FakeClock  # noqa: ANN001
) -> None:
    await resident(bot, "731", "TDP1")
    chat = Transcript(bot, TELEGRAM, "telegram", "731")
    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/taokham 24/11/2026 07:30-08:00; Trạm; TDP1; 5")
    await chat.send(button="ck:s:1")
    await chat.tap("07:30 (còn 5 chỗ)")
    await chat.tap("Tôi đồng ý")
    for text in ("Lý Văn Vắng", "1952", "0912000222"):
        await chat.say(text)
    assert "Đã đặt lịch" in chat.text
    clock.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # the day after; nobody marked them
    for n, day in ((2, "02/12/2026"), (3, "09/12/2026")):
        await staff.say(f"/taokham {day} 07:30-08:00; Trạm; TDP1; 5")
        assert f"Đã tạo buổi khám {n}" in staff.text

    async with bot.services.db.sessions() as session:
        rows = list((await session.execute(
            select(Outbox).where(Outbox.chat_id == "731", Outbox.dedupe_key.like("checkup-%"))
            .order_by(Outbox.id))).scalars())  # fmt: skip
    keys = [r.dedupe_key.split(":chat:")[0] for r in rows]
    # Session 1: invited; session 2: the one follow-up instead of an invitation; 3: invited.
    assert keys == ["checkup-invite:1", "checkup-missed:1", "checkup-invite:3"]
    follow_up = Outbound.from_payload(rows[1].payload)
    assert "vắng mặt" in follow_up.text and "24/11/2026" in follow_up.text
    assert [b.data for b in follow_up.all_buttons()] == ["ck:s:2"]
