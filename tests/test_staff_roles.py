"""Staff roles: every role x every staff command and button, on Telegram and on Zalo Bot.

The expected matrix is written out here by hand (not read from `bot.permissions`), so a change to
the permission table that lets a role do more, or less, fails this test. A resident gets the
staff-only refusal for every cell; nothing a refused tap or command would change is changed.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM, ZALO_BOT
from storage.models import BroadcastRecord, Ticket
from tests.conftest import FakeClock
from tests.test_feedback_flow import file_feedback
from tests.transcript import Transcript

IDS = {"admin": "100", "approver": "200", "staff": "300", "resident": "400"}
CODE = "PA-2026-000001"

# (what the person does, roles allowed). A = admin, P = approver (người duyệt), S = staff.
MATRIX: list[tuple[str, str]] = [
    ("/canbo", "APS"),
    ("/dangmo", "APS"),
    ("/cuatoi", "APS"),
    ("/quahan", "APS"),
    ("/baocao", "APS"),
    (f"/tiepnhan {CODE}", "AS"),
    (f"/traloi {CODE} Trạm đã xử lý", "AS"),
    (f"/chuyen {CODE}", "AS"),
    (f"/trung {CODE} PA-2026-000009", "AS"),
    (f"/dong {CODE}", "AS"),
    (f"/chan {CODE}", "A"),
    (f"/bochan {CODE}", "A"),
    ("/phat", "AS"),
    ("/khancap", "AS"),
    ("/huyphat", "APS"),
    ("button tl:open:0", "APS"),
    ("button tl:overdue:1", "APS"),
    ("button tko:1", "APS"),
    ("button tk:acc:1", "AS"),
    ("button tk:ans:1", "AS"),
    ("button tk:mv:1", "AS"),
    ("button tk:close:1", "AS"),
    ("button tk:closeok:1", "AS"),
    ("button tk:dup:1", "AS"),
    ("button tk:block:1", "A"),
    ("button bc:lib", "AS"),
    ("button bc:a:all", "AS"),
    ("button bc:ok", "AS"),
    ("button bcy:1", "AP"),
    ("button bcn:1", "AP"),
    ("/duyet 1", "AP"),
    ("/tuchoi 1", "AP"),
    ("button bcx:1", "APS"),
    ("/taokham", "AS"),
    ("/dskham", "AS"),
    ("/dskham 1", "AS"),
    ("button ckst:l:1", "AS"),
    ("button ckst:a:1", "AS"),
]
LETTER = {"admin": "A", "approver": "P", "staff": "S"}
CHANNELS = {"telegram": TELEGRAM, "zalo_bot": ZALO_BOT}
NOT_STAFF = ("chỉ dành cho cán bộ", "chỉ cán bộ")
WRONG_ROLE = "không được làm việc này"


def staffed(settings: Settings) -> Settings:
    staff = [StaffMember(f"Cán bộ {role}", role, telegram_id=IDS[role], zalo_bot_id="z" + IDS[role])
             for role in ("admin", "approver", "staff")]
    return replace(settings, staff=staff,
                   feedback=replace(settings.feedback, staff_chat="telegram:-100777"))


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    services = build_services(staffed(settings), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def act(chat: Transcript, probe: str) -> str:
    if probe.startswith("button "):
        await chat.send(button=probe.removeprefix("button "))
    else:
        await chat.say(probe)
    return chat.text


@pytest.mark.parametrize("channel", list(CHANNELS))
@pytest.mark.parametrize("role", ["admin", "approver", "staff", "resident"])
async def test_every_role_times_every_staff_action(bot, role: str, channel: str) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, chat_id="resident-x"), photo=False)
    user = IDS[role] if channel == "telegram" else "z" + IDS[role]
    chat = Transcript(bot, CHANNELS[channel], channel, user)
    wrong: list[str] = []
    for probe, allowed in MATRIX:
        text = await act(chat, probe)
        refused_resident = any(marker in text for marker in NOT_STAFF)
        refused_role = WRONG_ROLE in text
        if role == "resident":
            ok = refused_resident and not refused_role
        elif LETTER[role] in allowed:
            ok = text != "" and not refused_resident and not refused_role
        else:
            ok = refused_role and not refused_resident
        if not ok:
            wrong.append(f"{role} on {channel}: {probe!r} -> {text[:90]!r}")
    assert wrong == []


async def test_an_approver_tapping_close_changes_nothing(bot) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, chat_id="resident-x"), photo=False)
    approver = Transcript(bot, TELEGRAM, "telegram", IDS["approver"])
    for data in ("tk:acc:1", "tk:closeok:1", "tk:block:1"):
        await approver.send(button=data)
        assert WRONG_ROLE in approver.text
    await approver.say(f"/dong {CODE}")
    assert WRONG_ROLE in approver.text
    async with bot.services.db.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert (ticket.status, ticket.assignee) == ("new", None)


async def test_staff_cancel_only_their_own_broadcast_an_approver_any(bot) -> None:  # noqa: ANN001
    admin = Transcript(bot, TELEGRAM, "telegram", IDS["admin"])
    await admin.say("/phat")
    await admin.tap("bc:text")
    await admin.say("Lịch tiêm chủng tháng 12 sẽ thông báo sau.")
    await admin.tap("bc:a:all")
    await admin.tap("bc:w:later")
    await admin.say("01/12/2026 08:00")
    await admin.tap("bc:ok")
    assert "/huyphat" in admin.text
    staff = Transcript(bot, TELEGRAM, "telegram", IDS["staff"])
    await staff.say("/huyphat")
    assert "Không có tin nào" in staff.text or "không có" in staff.text.lower()
    await staff.send(button="bcx:1")  # replaying the admin's button
    assert "chỉ được hủy tin do mình soạn" in staff.text
    approver = Transcript(bot, TELEGRAM, "telegram", IDS["approver"])
    await approver.say("/huyphat")
    await approver.tap("bcx:1")
    async with bot.services.db.sessions() as session:
        record = (await session.execute(select(BroadcastRecord))).scalar_one()
    assert record.status == "cancelled"


async def test_help_and_menu_show_what_the_role_may_do(bot) -> None:  # noqa: ANN001
    helps = {}
    for role in ("admin", "approver", "staff", "resident"):
        chat = Transcript(bot, TELEGRAM, "telegram", IDS[role])
        await chat.say("/trogiup")
        helps[role] = chat.text
    assert "/gopy" in helps["resident"] and "/phat" not in helps["resident"]
    assert "Lệnh dành cho cán bộ" not in helps["resident"]
    assert "/chan" in helps["admin"] and "/phat" in helps["admin"]
    assert "/phat" in helps["staff"] and "/dong" in helps["staff"] and "/chan" not in helps["staff"]
    assert "/phat" not in helps["approver"] and "/dong" not in helps["approver"]
    assert "/huyphat" in helps["approver"] and "/dangmo" in helps["approver"]
    approver = Transcript(bot, TELEGRAM, "telegram", IDS["approver"])
    await approver.say("/canbo")
    labels = [b.label for b in approver.buttons()]
    assert "Phản ánh đang mở" in labels and "Phát tin" not in labels
    staff = Transcript(bot, TELEGRAM, "telegram", IDS["staff"])
    await staff.say("/menu")
    await staff.tap("Menu cán bộ")
    labels = [b.label for b in staff.buttons()]
    assert {"Phát tin", "🚨 Tin khẩn", "Phản ánh đang mở", "Quá hạn", "Hướng dẫn"} <= set(labels)


async def test_a_typed_step_is_checked_too_when_the_role_changed_mid_flow(
        settings: Settings, clock: FakeClock) -> None:
    """States are part of the matrix: text typed into a broadcast step needs the permission."""
    first = build_services(staffed(settings), clock=clock)
    nurse = Transcript(build_bot(first), TELEGRAM, "telegram", IDS["staff"])
    await nurse.say("/phat")
    await nurse.tap("bc:text")
    await first.db.close()
    demoted = staffed(settings)
    demoted = replace(demoted, staff=[replace(m, role="approver") if m.role == "staff" else m
                                      for m in demoted.staff])
    second = build_services(demoted, clock=clock)
    try:
        nurse.bot = build_bot(second)
        await nurse.say("Tin tự soạn sau khi bị đổi vai trò")
        assert WRONG_ROLE in nurse.text
        async with second.db.sessions() as session:
            assert (await session.execute(select(BroadcastRecord))).scalars().all() == []
    finally:
        await second.db.close()
