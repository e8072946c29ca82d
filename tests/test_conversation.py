"""The conversation core, as a resident experiences it (web chat capabilities unless noted)."""

from __future__ import annotations

import pytest

from bot.app import build_bot, build_services
from bot.model import TELEGRAM, ZALO_BOT
from scheduler.broadcasts import resolve_audience
from scheduler.plan import Audience
from tests.conftest import drop_other_connections
from tests.transcript import Transcript


async def test_start_greets_by_station_name_and_shows_the_menu(healthbot, settings) -> None:
    chat = Transcript(healthbot)
    await chat.say("/start")
    assert settings.station.name in chat.text
    assert "115" in chat.text
    labels = [b.label for b in chat.buttons()]
    assert labels[:5] == [
        "Thông tin sức khỏe",
        "Đặt câu hỏi",
        "Góp ý / Phản ánh",
        "Đăng ký nhận tin",
        "Nhắc lịch tiêm, hạn thẻ BHYT",
    ]


async def test_menu_topic_and_entry_give_a_sourced_answer(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/menu")
    await chat.tap("Thông tin sức khỏe")
    await chat.tap("t:dengue")
    assert chat.buttons(), "a topic lists its entries"
    await chat.tap(chat.buttons()[0].data)
    answer = chat.replies[0]
    assert answer.topic == "dengue"
    assert answer.source and answer.source in answer.text  # every channel shows the source line
    assert any(b.data == "menu" for b in chat.buttons())


async def test_question_without_diacritics_gets_the_right_topic(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("sot xuat huyet co lay khong")
    assert chat.replies[0].topic == "dengue"
    assert chat.replies[0].source


async def test_unknown_text_gets_an_honest_answer_menu_and_phone(healthbot, settings) -> None:
    chat = Transcript(healthbot)
    await chat.say("giá vàng hôm nay bao nhiêu")
    assert chat.replies[0].topic is None
    assert settings.station.phone in chat.text
    assert "chưa có thông tin" in chat.text
    assert any(b.data == "menu" for b in chat.buttons())


async def test_language_choice_is_kept_across_a_restart(settings, clock) -> None:
    services = build_services(settings, clock=clock)
    chat = Transcript(build_bot(services))
    await chat.say("/ngonngu")
    await chat.tap("English")
    assert "English" in chat.text
    await services.db.close()

    services = build_services(settings, clock=clock)  # the process restarted
    chat = Transcript(build_bot(services))
    await chat.say("/menu")
    assert "Main menu" in chat.text
    await services.db.close()


async def test_conversation_state_survives_a_restart(settings, clock) -> None:
    services = build_services(settings, clock=clock)
    chat = Transcript(build_bot(services))
    await chat.say("/menu")
    await chat.tap("Đặt câu hỏi")  # the bot now waits for a question
    await services.db.close()

    services = build_services(settings, clock=clock)
    chat = Transcript(build_bot(services))
    await chat.say("bao hiem y te ho gia dinh bao nhieu tien")
    assert chat.replies[0].topic == "bhyt"
    await services.db.close()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀😀😀",
        "<script>alert(1)</script>",
        "<b>in đậm</b> &amp; <img src=x onerror=alert(1)>",
        "\x00\x01\x02",
        "a" * 20_000,
    ],
)
async def test_bad_input_gets_a_clear_answer(healthbot, settings, text: str) -> None:
    chat = Transcript(healthbot)
    replies = await chat.say(text)
    assert replies, "every message is answered"
    assert all(r.text.strip() for r in replies)
    if len(text) > 4000:
        assert "quá dài" in chat.text
    # The bot never echoes markup back: adapters escape, and the core does not reflect input.
    assert "<script>" not in chat.text


async def test_unknown_command_gets_help(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/xyz")
    assert "/xyz" in chat.text and "/menu" in chat.text


async def test_stale_button_gets_the_menu(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.send(button="nope:1")
    assert "không còn dùng được" in chat.text


async def test_numbered_menus_on_a_channel_without_buttons(healthbot) -> None:
    chat = Transcript(healthbot, caps=ZALO_BOT, channel="zalo_bot", chat_id="z1")
    await chat.say("menu")
    assert not chat.buttons()
    assert "Gõ số để chọn:" in chat.text and "1. Thông tin sức khỏe" in chat.text
    await chat.say("1")  # "1" = Health topics
    assert "chủ đề nào" in chat.text
    assert "1. " in chat.text


async def test_typed_numbers_work_on_button_channels_too(healthbot) -> None:
    chat = Transcript(healthbot, caps=TELEGRAM, channel="telegram", chat_id="5")
    await chat.say("/menu")
    await chat.say("1")
    assert "chủ đề nào" in chat.text


async def test_group_chatter_is_ignored_but_addressed_messages_are_answered(healthbot) -> None:
    group = Transcript(
        healthbot, caps=TELEGRAM, channel="telegram", chat_id="-100", user_id="7", chat_kind="group"
    )
    assert await group.send(text="hôm nay trời đẹp", addressed=False) == []
    replies = await group.send(text="/hoi sot xuat huyet", addressed=True)
    assert replies and replies[0].topic == "dengue"


async def test_long_answers_are_split_for_small_channels(healthbot) -> None:
    from bot.model import Capabilities

    tiny = Capabilities(buttons=False, max_text=120, groups=False, name="tiny")
    chat = Transcript(healthbot, caps=tiny, channel="tiny", chat_id="t1")
    await chat.say("/trogiup")
    assert len(chat.replies) > 1
    assert all(len(r.text) <= 120 for r in chat.replies)


async def test_subscribe_and_unsubscribe(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/theodoi")
    await chat.tap("sub:dengue")
    assert "Đã đăng ký" in chat.text
    assert any(b.label.startswith("✅") and b.data == "sub:dengue" for b in chat.buttons())
    await chat.say("/huy")
    assert "không nhận tin" in chat.text
    await chat.say("/theodoi")
    assert not any(b.label.startswith("✅") for b in chat.buttons())


async def test_resident_sees_and_deletes_their_data(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/theodoi")
    await chat.tap("sub:dengue")
    await chat.say("/dulieu")
    assert "dengue" in chat.text
    await chat.tap("Xoá dữ liệu của tôi")
    await chat.tap("Có, xoá")
    assert "đã được xoá" in chat.text
    await chat.say("/dulieu")
    assert "dengue" not in chat.text
    # Coming back later and subscribing again: the news reaches the same chat again.
    await chat.say("/theodoi")
    await chat.tap("sub:dengue")
    async with healthbot.services.db.sessions() as session:
        recipients = await resolve_audience(
            session, Audience(groups="none", subscribers_of="dengue"), healthbot.services.settings
        )
    assert [r.chat_id for r in recipients] == [chat.chat_id]


async def test_a_question_in_english_is_answered_in_english(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("how do I renew my health insurance card")
    assert chat.replies[0].topic == "bhyt"
    assert "Source" in chat.text
    assert any(b.data == "lang:en" for b in chat.buttons())  # offered to keep English
    await chat.say("sốt xuất huyết có lây không")
    assert "Nguồn" in chat.text  # Vietnamese questions still get Vietnamese


async def test_an_english_hello_shows_the_way_to_english(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("hello")
    assert "Xin chào" in chat.text and "To continue in English" in chat.text
    await chat.say("xin chào")
    assert "To continue in English" not in chat.text  # a Vietnamese greeting gets Vietnamese only


async def test_a_step_that_fails_apologises_and_the_resident_goes_on_where_they_were(
    healthbot, settings
) -> None:
    async def broken(ctx) -> None:  # noqa: ANN001 - a command that breaks half-way
        ctx.set_state("somewhere.else", note="half done")
        raise RuntimeError("the disk is full")

    healthbot.router.command("hong")(broken)
    chat = Transcript(healthbot)
    await chat.say("/gopy")
    await chat.tap("Vệ sinh môi trường / ổ bọ gậy")
    assert "mô tả" in chat.text
    await chat.say("/hong")
    assert settings.station.phone in chat.text and "115" in chat.text
    # The half-made change was not kept: the description still goes into the feedback.
    await chat.say("Có ổ bọ gậy trong chum nước ở ngõ 5, tổ 2")
    assert "Tiếp tục" in [b.label for b in chat.buttons()]


async def test_after_a_database_restart_the_next_message_is_answered(
    healthbot, db_url, postgres_only
) -> None:
    chat = Transcript(healthbot)
    await chat.say("/start")
    assert await drop_other_connections(db_url) >= 1  # the pooled connection is gone
    await chat.say("sot xuat huyet co lay khong")
    assert chat.replies[0].topic == "dengue"
