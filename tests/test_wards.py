"""Ward search by name on a shared provincial bot (issue 21).

A resident who came without a deep link types their ward's name as people do, without diacritics
("phuong an khanh", "an khanh"), gets a short list of matching stations, picks one (a button, or
its number where a channel has no buttons) and from then on belongs to that station. A question
that merely starts like a ward word ("phuong phap ...") stays a question. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Area, Settings, StationEntry, StationTelegram
from bot.model import ZALO_BOT
from core.stations import find_stations, names_a_ward
from storage.models import Person
from tests.conftest import FakeClock
from tests.transcript import Transcript

AN_KHANH = "Trạm Y tế phường An Khánh"
AN_KHANH_PHONE = "028 3740 0000"


def province(settings: Settings) -> Settings:
    def entry(sid: int, code: str, name: str, ward: str, phone: str = "") -> StationEntry:
        return StationEntry(id=sid, code=code, name=name, ward=ward, phone=phone,
                            address=f"Số 1, {ward}", areas=[Area("TDP1", "Tổ dân phố 1")])

    return replace(settings, station=replace(settings.station, code="MAU"), stations=[
        entry(2, "XUANLA", "Trạm Y tế phường Xuân La", "Phường Xuân La"),
        entry(3, "ANKHANH", AN_KHANH, "Phường An Khánh", AN_KHANH_PHONE),
        entry(4, "ANPHU", "Trạm Y tế phường An Phú", "Phường An Phú"),
        entry(5, "KHANHHOI", "Trạm Y tế xã Khánh Hội", "Xã Khánh Hội"),
    ])


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    services = build_services(province(settings), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def station_of(bot, chat_id: str) -> int:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        return (await session.execute(select(Person.station_id))).scalars().one()


@pytest.mark.parametrize("typed", ["phuong an khanh", "an khanh", "Phường An Khánh", "AN KHANH",
                                   "tram y te phuong an khanh"])
async def test_typing_the_ward_without_diacritics_offers_it(bot, typed: str) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.say(typed)
    assert [b.label for b in chat.buttons()] == [AN_KHANH]
    assert "Vui lòng chọn" in chat.text
    await chat.tap(AN_KHANH)
    assert AN_KHANH in chat.text and AN_KHANH_PHONE in chat.text
    assert await station_of(bot, "resident-1") == 3
    await chat.say("/lienhe")  # from now on the station's own facts
    assert AN_KHANH_PHONE in chat.text


async def test_a_part_of_a_name_lists_every_station_that_has_it(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.say("/phuong an")
    labels = [b.label for b in chat.buttons()]
    assert set(labels) == {AN_KHANH, "Trạm Y tế phường An Phú"}


async def test_the_search_command_asks_then_numbers_work_without_buttons(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, caps=ZALO_BOT, channel="zalo_bot", chat_id="z-1")
    await chat.say("chon phuong")
    assert "gõ tên phường, xã" in chat.text
    await chat.say("khanh hoi")  # the state takes the name
    assert "1." in chat.text and "Khánh Hội" in chat.text
    await chat.say("1")
    assert "Trạm Y tế xã Khánh Hội" in chat.text
    assert await station_of(bot, "z-1") == 5


async def test_a_misspelt_name_is_still_found_and_an_unknown_one_asked_again(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.say("/phuong xuan laa")
    assert [b.label for b in chat.buttons()] == ["Trạm Y tế phường Xuân La"]
    await chat.say("/phuong hoan kiem")
    assert "Không tìm thấy" in chat.text and "hoan kiem" in chat.text
    await chat.say("an phu")
    assert [b.label for b in chat.buttons()] == ["Trạm Y tế phường An Phú"]


async def test_start_without_a_link_tells_how_to_pick_a_ward(bot, settings: Settings) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.say("/start")
    assert "/phuong" in chat.text  # several stations on the shared bot
    await chat.say("/start ANKHANH")  # came with a link: no hint
    assert "/phuong" not in chat.text
    services = build_services(settings)  # one station: the greeting is unchanged
    try:
        alone = Transcript(build_bot(services))
        await alone.say("/start")
        assert "/phuong" not in alone.text
    finally:
        await services.db.close()


async def test_english_strings(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.send(text="/phuong", locale_hint="en")
    assert "Type the name of your ward or commune" in chat.text


async def test_a_question_that_starts_like_a_ward_word_stays_a_question(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot)
    await chat.say("phuong phap ha sot cho tre")
    assert not [b for b in chat.buttons() if b.data.startswith("ward:")]
    assert await station_of(bot, "resident-1") == 1


def test_matching_rules(settings: Settings) -> None:
    configured = province(settings)
    assert find_stations(configured, "an khanh") == [3]
    assert find_stations(configured, "khanh") == [3, 5]
    assert names_a_ward(configured, "mau") == []  # one bare word: a question ("máu")
    assert names_a_ward(configured, "phuong mau") == [1]
    assert names_a_ward(settings, "an khanh") == []  # one station: nothing to choose


async def test_a_station_with_its_own_telegram_bot_is_not_joined_on_the_shared_bot(
    settings: Settings, clock: FakeClock,
) -> None:
    configured = province(settings)
    own = replace(configured.stations[1], telegram=StationTelegram(token="9:X", bot_username="ak_bot"))
    services = build_services(replace(configured, stations=[configured.stations[0], own,
                                                           *configured.stations[2:]]), clock=clock)
    bot = build_bot(services)
    try:
        from bot.model import TELEGRAM

        chat = Transcript(bot, caps=TELEGRAM, channel="telegram", chat_id="777")
        await chat.say("an khanh")
        await chat.tap(AN_KHANH)
        assert "https://t.me/ak_bot" in chat.text
        assert await station_of(bot, "777") == 1
    finally:
        await services.db.close()
