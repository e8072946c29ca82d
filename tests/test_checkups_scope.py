"""Check-ups keep to the resident's station and area (issue 20): a session, slot or time typed by
hand (`ck:s:7`, `ck:t:12`, `ck:ok:12`) that belongs to another station, or to another area, is
refused like a closed one, and nothing is stored. Survey answers belong to the resident's station.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.i18n import TIMEZONE
from storage import checkups
from storage.models import CheckupBooking, SurveyInvitation, SurveyResponse
from tests.test_stations import bot, resident_of_b, rows  # noqa: F401 - the two-station bot
from tests.transcript import Transcript

__all__ = ["bot"]


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, d, hh, mm, tzinfo=TIMEZONE).astimezone(UTC)


async def sessions(bot) -> tuple[int, int, int]:  # noqa: ANN001
    """Station B's session (all areas), station A's session for TDP2 only, and a slot of B's."""
    async with bot.services.db.sessions() as session, session.begin():
        b = await checkups.create_session(session, starts_at=local(5, 7, 30),
                                          ends_at=local(5, 8, 30), place="Trạm B", areas=[],
                                          per_slot=2, station_id=2)
        a2 = await checkups.create_session(session, starts_at=local(6, 7, 30),
                                           ends_at=local(6, 8, 30), place="Nhà văn hoá TDP2",
                                           areas=["TDP2"], per_slot=2, station_id=1)
        b_slot = (await checkups.slots(session, b.id))[0].id
    return b.id, a2.id, b_slot


async def test_typed_ids_of_another_station_or_area_are_refused(bot) -> None:  # noqa: ANN001
    b_session, a_tdp2, b_slot = await sessions(bot)
    resident = Transcript(bot, chat_id="resident-a")
    await resident.say("/start TDP1")
    await resident.send(button=f"ck:s:{b_session}")
    assert "Buổi khám này không còn mở đặt lịch" in resident.text
    await resident.send(button=f"ck:s:{a_tdp2}")  # own station, another area
    assert "Buổi khám này không còn mở đặt lịch" in resident.text
    await resident.send(button=f"ck:t:{b_slot}")
    assert "có đồng ý không" not in resident.text
    await resident.send(button=f"ck:ok:{b_slot}")
    assert "họ tên" not in resident.text
    assert await rows(bot, CheckupBooking) == []

    # Station B's resident books the same slot through the same buttons.
    b = await resident_of_b(bot)
    await b.send(button=f"ck:t:{b_slot}")
    await b.send(button=f"ck:ok:{b_slot}")
    await b.say("Nguyễn Thị Bê")
    await b.say("1960")
    await b.say("0912345678")
    assert "Đã đặt lịch" in b.text
    (booking,) = await rows(bot, CheckupBooking)
    assert (booking.station_id, booking.slot_id) == (2, b_slot)


async def test_survey_answers_belong_to_the_residents_station(bot) -> None:  # noqa: ANN001
    b = await resident_of_b(bot)
    await b.say("/danhgia")
    for _n in range(5):
        await b.tap("5 – Rất hài lòng")
    async with bot.services.db.sessions() as session:
        (response,) = (await session.execute(select(SurveyResponse))).scalars().all()
        (invitation,) = (await session.execute(select(SurveyInvitation))).scalars().all()
        assert (response.station_id, invitation.station_id) == (2, 2)
        assert response.completed_at is not None
