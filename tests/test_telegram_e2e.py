"""Telegram end to end: the real python-telegram-bot client over HTTP against FakeTelegram (polling).

The harness at the top (`running_bot`) is shared with the other tests/test_telegram_*.py modules.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.channels.telegram import start_telegram
from bot.config import Settings, StaffMember
from bot.engine import HealthBot
from bot.model import Outbound
from scheduler.sender import SendError
from storage.models import Chat
from tests.fakes.telegram_api import FakeTelegram, FloodLimits

SECRET = "s3cret-token_ABC"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def telegram_settings(
    settings: Settings, fake: FakeTelegram, *, mode: str = "polling", webhook_url: str = ""
) -> Settings:
    telegram = replace(
        settings.telegram,
        token=fake.token,
        api_base_url=fake.bot_api_url,
        mode=mode,
        webhook_url=webhook_url,
        webhook_secret=SECRET if mode == "webhook" else "",
    )
    return replace(settings, telegram=telegram)


@dataclass
class Running:
    bot: HealthBot
    fake: FakeTelegram
    webhook_url: str = ""

    async def chat(self, chat_id: int) -> Chat | None:
        async with self.bot.services.db.sessions() as session:
            stmt = select(Chat).filter_by(channel="telegram", external_id=str(chat_id))
            return (await session.execute(stmt)).scalar_one_or_none()


@asynccontextmanager
async def running_bot(
    settings: Settings, fake: FakeTelegram, clock: object, *, mode: str = "polling"
) -> AsyncIterator[Running]:
    """start_telegram on a shared aiohttp app; in webhook mode that app serves on a real port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook" if mode == "webhook" else ""
    services = build_services(
        telegram_settings(settings, fake, mode=mode, webhook_url=url), clock=clock
    )  # type: ignore[arg-type]
    bot = build_bot(services)
    app = web.Application()
    stop = await start_telegram(bot, app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        if mode == "polling":
            await fake.wait_for_poll()
        yield Running(bot, fake, url)
    finally:
        await stop()
        await runner.cleanup()
        await services.db.close()


# --- tests -------------------------------------------------------------------------------------

RESIDENT = 7001
GROUP = -4001
SUPERGROUP = -1001234567890
ADMIN = 7100
MEMBER = 7200


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    # Flood limits off: these tests are about conversations; the sender tests cover 429s.
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def tg(settings: Settings, fake: FakeTelegram, clock: object) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock) as running:
        yield running


async def say(
    fake: FakeTelegram,
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    expect: int = 1,
    **kw: object,
) -> list:
    """A user writes; return the `expect` new messages the bot sent to that chat."""
    before = len(fake.sent_to(chat_id))
    await fake.push_message(chat_id, user_id or chat_id, text, **kw)  # type: ignore[arg-type]
    sent = await fake.wait_for_sent(chat_id, before + expect)
    return sent[before:]


async def tap(
    fake: FakeTelegram, chat_id: int, data: str, message_id: int, expect: int = 1
) -> list:
    before = len(fake.sent_to(chat_id))
    await fake.push_callback(chat_id, chat_id, data, message_id)
    sent = await fake.wait_for_sent(chat_id, before + expect)
    return sent[before:]


async def test_start_greets_with_an_inline_menu_in_html(tg: Running, fake: FakeTelegram) -> None:
    (reply,) = await say(fake, RESIDENT, "/start")
    assert tg.bot.services.settings.station.name in reply.text
    assert "115" in reply.text
    assert reply.parse_mode == "HTML"
    assert "topics" in reply.callback_data and "cmd:gopy" in reply.callback_data
    assert all(len(d.encode()) <= 64 and d.isascii() for d in reply.callback_data)
    # The command menu was set in Vietnamese (default) and English.
    assert any(c["command"] == "hoi" for c in fake.commands_for(""))
    english = {c["command"]: c["description"] for c in fake.commands_for("en")}
    assert english["hoi"] == "Ask a health question"
    vietnamese = {c["command"]: c["description"] for c in fake.commands_for("")}
    assert vietnamese["hoi"] == "Hỏi về sức khỏe"


async def test_deep_link_start_sets_the_residents_area(tg: Running, fake: FakeTelegram) -> None:
    (greeting,) = await say(fake, RESIDENT, "/start TDP3")  # t.me/<bot>?start=TDP3
    assert "Tổ dân phố 3" in greeting.text
    (current,) = await say(fake, RESIDENT, "/khuvuc")
    assert "Tổ dân phố 3" in current.text


async def test_tapping_a_topic_answers_with_its_source(tg: Running, fake: FakeTelegram) -> None:
    (menu,) = await say(fake, RESIDENT, "/start")
    (topics,) = await tap(fake, RESIDENT, "topics", menu.message_id)
    assert "t:dengue" in topics.callback_data
    (entries,) = await tap(fake, RESIDENT, "t:dengue", topics.message_id)
    (answer,) = await tap(fake, RESIDENT, "e:dengue.spread", entries.message_id)
    assert "muỗi" in answer.text
    assert "Nguồn:" in answer.text
    # Every tap was answered, so no button keeps spinning.
    assert len(fake.calls_to("answerCallbackQuery")) == 3
    assert all(c.status == 200 for c in fake.calls_to("answerCallbackQuery"))


async def test_question_without_diacritics_gets_the_right_answer(
    tg: Running, fake: FakeTelegram
) -> None:
    (answer,) = await say(fake, RESIDENT, "sot xuat huyet co lay khong")
    assert "muỗi vằn" in answer.text
    assert "Nguồn:" in answer.text


async def test_language_switch_sticks(tg: Running, fake: FakeTelegram) -> None:
    (choice,) = await say(fake, RESIDENT, "/ngonngu")
    assert choice.callback_data == ["lang:vi", "lang:en"]
    (done,) = await tap(fake, RESIDENT, "lang:en", choice.message_id)
    assert done.text.startswith("From now on I will write in English.")
    (menu,) = await say(fake, RESIDENT, "/menu")
    assert menu.text == "Main menu: please choose."


async def test_english_telegram_client_is_answered_in_english(
    tg: Running, fake: FakeTelegram
) -> None:
    (reply,) = await say(fake, RESIDENT + 1, "/start", language_code="en")
    assert "In an emergency, call 115" in reply.text


async def test_html_in_resident_text_and_config_is_escaped(
    settings: Settings, fake: FakeTelegram, clock: object
) -> None:
    station = replace(settings.station, name="Trạm <Y tế> & Co")
    async with running_bot(replace(settings, station=station), fake, clock):
        (greeting,) = await say(fake, RESIDENT, "/start")
        assert "Trạm <Y tế> & Co" in greeting.text  # what the resident sees, after parsing
        (refusal,) = await say(fake, RESIDENT, "/khuvuc <b>X&Y")
        assert "<b>X&Y" in refusal.text
    raw = fake.calls_to("sendMessage")[-1].params["text"]
    assert "&lt;b&gt;X&amp;Y" in raw and raw.count("<") == 0


async def test_bot_added_to_group_records_it_and_introduces_itself(
    tg: Running, fake: FakeTelegram
) -> None:
    await fake.push_bot_added(GROUP, ADMIN, title="Tổ dân phố 1 – Zalo cũ")
    (intro,) = await fake.wait_for_sent(GROUP)
    assert "/khuvuc" in intro.text and "/hoi" in intro.text
    chat = await tg.chat(GROUP)
    assert chat is not None and chat.kind == "group" and chat.active
    assert chat.title == "Tổ dân phố 1 – Zalo cũ"


async def test_group_chatter_is_ignored_but_mentions_and_commands_answered(
    tg: Running, fake: FakeTelegram
) -> None:
    await fake.push_bot_added(GROUP, ADMIN)
    await fake.wait_for_sent(GROUP)
    await fake.push_message(GROUP, MEMBER, "sot xuat huyet co lay khong")  # not to the bot
    await fake.push_message(GROUP, MEMBER, "/start@some_other_bot")
    question = await fake.push_message(
        GROUP, MEMBER, "@healthbot_test_bot sot xuat huyet co lay khong"
    )
    answer = (await fake.wait_for_sent(GROUP, 2))[1]
    assert "muỗi vằn" in answer.text
    assert len(fake.sent_to(GROUP)) == 2  # the intro and this answer, nothing for the chatter
    # In a group the answer is a reply to the question, so the thread stays readable.
    assert answer.params["reply_parameters"]["message_id"] == question["message"]["message_id"]
    (menu,) = await say(fake, GROUP, "/menu@healthbot_test_bot", user_id=MEMBER)
    assert "topics" in menu.callback_data


async def test_khuvuc_refused_for_members_accepted_for_admins(
    tg: Running, fake: FakeTelegram
) -> None:
    await fake.push_bot_added(GROUP, ADMIN)
    await fake.wait_for_sent(GROUP)
    fake.set_admins(GROUP, [ADMIN])
    (refusal,) = await say(fake, GROUP, "/khuvuc TDP2", user_id=MEMBER)
    assert "quản trị viên" in refusal.text
    assert (await tg.chat(GROUP)).area_code is None  # type: ignore[union-attr]
    (unknown,) = await say(fake, GROUP, "/khuvuc XYZ", user_id=ADMIN)
    assert "TDP1" in unknown.text and "TDP3" in unknown.text
    (done,) = await say(fake, GROUP, "/khuvuc tdp2", user_id=ADMIN)
    assert "Tổ dân phố 2" in done.text
    assert (await tg.chat(GROUP)).area_code == "TDP2"  # type: ignore[union-attr]


async def test_staff_member_may_set_a_group_area(
    settings: Settings, fake: FakeTelegram, clock: object
) -> None:
    staff_id = "7300"
    staffed = replace(settings, staff=[StaffMember("Chị Lan", telegram_id=staff_id)])
    async with running_bot(staffed, fake, clock) as running:
        await fake.push_bot_added(GROUP, ADMIN)
        await fake.wait_for_sent(GROUP)
        await say(fake, GROUP, "/khuvuc TDP3", user_id=int(staff_id))
        assert (await running.chat(GROUP)).area_code == "TDP3"  # type: ignore[union-attr]


async def test_group_migration_keeps_the_area(tg: Running, fake: FakeTelegram) -> None:
    await fake.push_bot_added(GROUP, ADMIN)
    await fake.wait_for_sent(GROUP)
    fake.set_admins(GROUP, [ADMIN])
    await say(fake, GROUP, "/khuvuc TDP1", user_id=ADMIN)
    await fake.push_migration(GROUP, SUPERGROUP, ADMIN)
    fake.set_admins(SUPERGROUP, [ADMIN])
    (current,) = await say(fake, SUPERGROUP, "/khuvuc", user_id=ADMIN)
    assert "Tổ dân phố 1" in current.text
    moved = await tg.chat(SUPERGROUP)
    assert moved is not None and moved.area_code == "TDP1" and moved.active


async def test_bot_removed_from_group_marks_it_inactive(tg: Running, fake: FakeTelegram) -> None:
    await fake.push_bot_added(GROUP, ADMIN)
    await fake.wait_for_sent(GROUP)
    await fake.push_my_chat_member(GROUP, ADMIN, "member", "left")
    await say(fake, RESIDENT, "/menu")  # updates run in order per chat; wait for a later one
    for _ in range(50):
        row = await tg.chat(GROUP)
        if row is not None and not row.active:
            break
        await asyncio.sleep(0.05)
    assert row is not None and not row.active and row.unreachable_reason == "removed"


async def test_blocked_user_is_marked_and_written_again_only_after_writing(
    tg: Running, fake: FakeTelegram
) -> None:
    await say(fake, RESIDENT, "/start")
    # The user blocks the bot: Telegram tells us with my_chat_member "kicked".
    await fake.push_my_chat_member(RESIDENT, RESIDENT, "member", "kicked")
    for _ in range(50):
        row = await tg.chat(RESIDENT)
        if row is not None and row.unreachable_reason:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.unreachable_reason == "blocked"
    sender = tg.bot.services.extras["senders"]["telegram"]
    with pytest.raises(SendError) as stopped:
        await sender.send(str(RESIDENT), Outbound("Tin mới"))
    assert stopped.value.kind == "stop" and stopped.value.reason == "blocked"
    # Writing again (which unblocks on Telegram) makes them reachable and answered.
    (reply,) = await say(fake, RESIDENT, "/menu")
    assert reply.text
    assert (await tg.chat(RESIDENT)).unreachable_reason is None  # type: ignore[union-attr]


async def test_reply_answered_403_marks_the_chat_blocked(tg: Running, fake: FakeTelegram) -> None:
    await say(fake, RESIDENT, "/start")
    fake.fail_next(RESIDENT, 403, "Forbidden: bot was blocked by the user")
    await fake.push_message(RESIDENT, RESIDENT, "/menu")
    await fake.wait_until(lambda: any(c.status == 403 for c in fake.calls_to("sendMessage")))
    for _ in range(50):
        row = await tg.chat(RESIDENT)
        if row is not None and row.unreachable_reason:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.unreachable_reason == "blocked"
    assert len(fake.sent_to(RESIDENT)) == 1  # only the greeting before the block


async def test_a_short_rate_limit_on_a_reply_is_waited_out(
    settings: Settings, clock: object
) -> None:
    async with FakeTelegram(flood_limits=FloodLimits()) as fake, running_bot(settings, fake, clock):
        fake.rate_limit_next(RESIDENT, retry_after=1)
        (reply,) = await say(fake, RESIDENT, "/start")
        assert "115" in reply.text
        assert [c.status for c in fake.calls_to("sendMessage")] == [429, 200]


async def test_one_chats_updates_are_handled_in_order(tg: Running, fake: FakeTelegram) -> None:
    (choice,) = await say(fake, RESIDENT, "/ngonngu")
    # Both arrive in one getUpdates batch; the tap must take effect before the command runs.
    await fake.push_callback(RESIDENT, RESIDENT, "lang:en", choice.message_id)
    await fake.push_message(RESIDENT, RESIDENT, "/menu")
    done, menu = (await fake.wait_for_sent(RESIDENT, 3))[1:]
    assert done.text.startswith("From now on I will write in English.")
    assert menu.text == "Main menu: please choose."


async def test_a_refused_reply_does_not_mark_the_resident(tg: Running, fake: FakeTelegram) -> None:
    fake.fail_next(RESIDENT, 400, "Bad Request: can't parse entities: Unsupported start tag")
    await fake.push_message(RESIDENT, RESIDENT, "/start")
    (menu,) = await say(fake, RESIDENT, "/menu")  # the next message is answered normally
    assert menu.callback_data
    assert (await tg.chat(RESIDENT)).unreachable_reason is None  # type: ignore[union-attr]
