"""`/baocao` end to end through FakeTelegram: a staff member gets the period's two report files as
documents; a resident is refused (issue 17)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.report_seed import seed
from tests.test_staff_telegram import NURSE, RESIDENT, staff_settings
from tests.test_telegram_e2e import running_bot, say, tap


@pytest.fixture
async def fake():  # noqa: ANN201
    async with FakeTelegram(flood_limits=None) as server:
        yield server


async def test_staff_receive_the_two_report_files(settings: Settings, fake: FakeTelegram,
                                                  clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        async with tg.bot.services.db.sessions() as session, session.begin():
            await seed(session)
        (figures,) = await say(fake, NURSE, "/baocao")
        assert "rpf:2026-H2" in figures.callback_data and "rpf:2026" in figures.callback_data
        summary, docx, xlsx = await say(fake, NURSE, "/baocao 2026-H1", expect=3)
        assert "Báo cáo 2026-H1: đã gửi đến 7 tin, nhận 7 phản ánh" in summary.text
        assert "75,0 %" in summary.text
        assert docx.document and xlsx.document
        names = [m.params["document"]["upload"] for m in (docx, xlsx)]
        assert names == ["bao-cao-2026-H1.docx", "bao-cao-2026-H1.xlsx"]
        assert all(m.params["document"]["size"] > 5000 for m in (docx, xlsx))
        # The button under /baocao does the same for the current half-year.
        _s, half_docx, _x = await tap(fake, NURSE, "rpf:2026-H2", figures.message_id, expect=3)
        assert half_docx.params["document"]["upload"] == "bao-cao-2026-H2.docx"


async def test_a_resident_cannot_get_the_report(settings: Settings, fake: FakeTelegram,
                                                clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock):
        (reply,) = await say(fake, RESIDENT, "/baocao 2026-H1")
        assert not reply.document and "chỉ dành cho cán bộ" in reply.text


async def test_on_a_channel_without_files_staff_get_the_summary(settings: Settings,
                                                                clock: object) -> None:
    from dataclasses import replace

    from bot.app import build_bot, build_services
    from bot.config import StaffMember
    from bot.model import ZALO_BOT
    from tests.transcript import Transcript

    staff = [StaffMember("Chị Lan", "staff", zalo_bot_id="z-lan")]
    services = build_services(replace(settings, staff=staff), clock=clock)  # type: ignore[arg-type]
    async with services.db.sessions() as session, session.begin():
        await seed(session)
    chat = Transcript(build_bot(services), ZALO_BOT, channel="zalo_bot", chat_id="z-lan")
    await chat.say("/baocao 2026-H1")
    assert "Báo cáo 2026-H1: đã gửi đến 7 tin, nhận 7 phản ánh" in chat.text
    assert "trên Telegram" in chat.text and all(r.document is None for r in chat.replies)
    await chat.say("/baocao 2026-Q1")
    assert "2026-H1 (6 tháng đầu năm)" in chat.text
    await services.db.close()
