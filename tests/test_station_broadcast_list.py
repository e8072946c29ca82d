"""A province broadcast to a chosen list of stations (issue 21).

Province staff tap "Only some stations" at the audience step and type codes or ward names; only
the listed stations' residents and groups get it, a station not on the list gets nothing, and the
approvers asked (the same rule as every broadcast) are those of every listed station. Runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Area, Settings, StaffMember, StationEntry
from bot.model import TELEGRAM
from storage.models import BroadcastRecord, Outbox
from tests.conftest import FakeClock
from tests.transcript import Transcript

PROVINCE, STAFF_B = "900", "902"


def three_stations(settings: Settings, *, approval: bool = False) -> Settings:
    stations = [StationEntry(id=2, code="XUANLA", name="Trạm Y tế phường Xuân La",
                             ward="Phường Xuân La", areas=[Area("TDPA", "Tổ dân phố A")]),
                StationEntry(id=3, code="ANKHANH", name="Trạm Y tế phường An Khánh",
                             ward="Phường An Khánh", areas=[Area("TDPB", "Tổ dân phố B")])]
    staff = [StaffMember("Cán bộ tỉnh", "admin", telegram_id=PROVINCE, province=True),
             StaffMember("Cán bộ trạm B", "admin", telegram_id=STAFF_B, stations=[2])]
    if approval:
        staff = [replace(staff[0], role="staff"), staff[1],
                 StaffMember("Duyệt trạm A", "approver", telegram_id="911", stations=[1]),
                 StaffMember("Duyệt trạm B", "approver", telegram_id="912", stations=[2]),
                 StaffMember("Duyệt trạm C", "approver", telegram_id="913", stations=[3])]
    return replace(settings, station=replace(settings.station, code="MAU"), stations=stations,
                   staff=staff, broadcast=replace(settings.broadcast, require_approval=approval))


async def make_bot(settings: Settings, clock: FakeClock, **options: bool):  # noqa: ANN201
    return build_bot(build_services(three_stations(settings, **options), clock=clock))


async def rows(bot, model, *where):  # noqa: ANN001, ANN201
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def residents(bot) -> None:  # noqa: ANN001
    for chat_id, link in (("res-a", "/start"), ("res-b", "/start XUANLA"),
                          ("res-c", "/start ANKHANH")):
        chat = Transcript(bot, chat_id=chat_id)
        await chat.say(link)
        await chat.send(button="sub:*")
    group_c = Transcript(bot, TELEGRAM, "telegram", "-100903", user_id="603", chat_kind="group")
    await group_c.say("/start ANKHANH")


async def compose(bot, who: str, words: str, stations: str) -> Transcript:  # noqa: ANN001
    staff = Transcript(bot, TELEGRAM, "telegram", who)
    await staff.say("/phat")
    await staff.tap("bc:text")
    await staff.say(words)
    await staff.tap("bcs")
    await staff.say(stations)
    assert "Chỉ gửi tới các trạm" in staff.text
    await staff.tap("bc:a:all")
    await staff.tap("bc:w:now")
    await staff.tap("bc:ok")
    return staff


async def queued_for(bot, words: str) -> set[str]:  # noqa: ANN001
    (record,) = await rows(bot, BroadcastRecord, BroadcastRecord.text == words)
    return {r.chat_id for r in await rows(bot, Outbox, Outbox.broadcast_id == record.id)}


async def test_only_the_listed_stations_receive_it(settings: Settings, clock: FakeClock) -> None:
    bot = await make_bot(settings, clock)
    try:
        await residents(bot)
        await compose(bot, PROVINCE, "Tin cho B và C", "xuanla, An Khanh")
        assert await queued_for(bot, "Tin cho B và C") == {"res-b", "res-c", "-100903"}
        (record,) = await rows(bot, BroadcastRecord)
        assert record.audience["stations"] == [2, 3]
        await compose(bot, PROVINCE, "Tin chỉ cho C", "ANKHANH")
        assert await queued_for(bot, "Tin chỉ cho C") == {"res-c", "-100903"}
    finally:
        await bot.services.db.close()


async def test_unknown_or_foreign_stations_are_refused_and_one_station_staff_get_no_choice(
    settings: Settings, clock: FakeClock,
) -> None:
    bot = await make_bot(settings, clock)
    try:
        province = Transcript(bot, TELEGRAM, "telegram", PROVINCE)
        await province.say("/phat")
        await province.tap("bc:text")
        await province.say("Tin thử")
        await province.tap("bcs")
        await province.say("XUANLA, HOANKIEM")
        assert "HOANKIEM" in province.text and "Vui lòng gõ lại" in province.text
        staff_b = Transcript(bot, TELEGRAM, "telegram", STAFF_B)
        await staff_b.say("/phat")
        await staff_b.tap("bc:text")
        await staff_b.say("Tin của B")
        assert "bcs" not in [b.data for b in staff_b.buttons()]  # one station: nothing to choose
        await staff_b.send(button="bcs")  # replayed anyway: only B's own stations are accepted
        await staff_b.say("ANKHANH")
        assert "ANKHANH" in staff_b.text and "Vui lòng gõ lại" in staff_b.text
    finally:
        await bot.services.db.close()


async def test_the_approvers_are_those_of_the_listed_stations(
    settings: Settings, clock: FakeClock,
) -> None:
    bot = await make_bot(settings, clock, approval=True)
    try:
        await residents(bot)
        await compose(bot, PROVINCE, "Tin cho B cần duyệt", "XUANLA")
        cards = await rows(bot, Outbox, Outbox.dedupe_key.like("broadcast:%:approve:%"))
        assert sorted(c.chat_id for c in cards) == ["902", "912"]  # B's admin and approver only
        (record,) = await rows(bot, BroadcastRecord)
        approver_a = Transcript(bot, TELEGRAM, "telegram", "911")
        await approver_a.send(button=f"bcy:{record.id}")
        (record,) = await rows(bot, BroadcastRecord)
        assert record.status == "pending_approval"  # A is not on the list: may not approve
        approver_b = Transcript(bot, TELEGRAM, "telegram", "912")
        await approver_b.send(button=f"bcy:{record.id}")
        assert await queued_for(bot, "Tin cho B cần duyệt") == {"res-b"}
    finally:
        await bot.services.db.close()

