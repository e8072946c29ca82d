"""Issue 12 as a resident meets it: numbers that are not questions, answers in their language."""

from __future__ import annotations

import json

from bot.model import ZALO_BOT
from tests.transcript import Transcript


async def test_a_number_not_on_the_zalo_menu_shows_the_menu_again(healthbot) -> None:
    chat = Transcript(healthbot, caps=ZALO_BOT, channel="zalo_bot", chat_id="z-menu")
    await chat.say("/menu")
    assert "Gõ" in chat.text or "1." in chat.text  # a numbered menu on a channel without buttons
    await chat.say("9")  # the menu has 7 options
    assert all(r.topic is None for r in chat.replies)  # never the vaccination schedule
    assert "Không có mục số 9" in chat.text
    assert "Thông tin sức khỏe" in chat.text  # the menu, drawn again
    await chat.say("1")  # the menu still works after it
    assert "Bạn muốn xem thông tin về chủ đề nào" in chat.text


async def test_a_bare_number_without_a_menu_is_not_a_question(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="web-number")
    for number in ("9", "12", "16"):
        await chat.say(number)
        assert all(r.topic is None for r in chat.replies), number
        assert f"Không có mục số {number}" in chat.text
    await chat.say("3")  # now a menu is shown (7 options): 3 picks from it
    assert "góp ý" in chat.text


async def test_a_vietnamese_resident_typing_a_drug_name_is_answered_in_vietnamese(
    healthbot,
) -> None:
    chat = Transcript(healthbot, chat_id="web-drug")
    for text in (
        "paracetamol",
        "uống paracetamol được không",
        "con uong paracetamol duoc ko",
        "vaccine",
    ):
        await chat.say(text)
        assert "Source" not in chat.text and "Sorry" not in chat.text, (text, chat.text)
        assert not any(b.data == "lang:en" for b in chat.buttons()), text


async def test_a_resident_who_writes_english_keeps_english_answers(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="web-english")
    await chat.say("how do I prevent dengue fever")
    assert chat.replies[0].topic == "dengue" and "Source" in chat.text
    await chat.say("paracetamol")  # too short to tell: the answer stays in English
    assert "Nguồn" not in chat.text and "chưa có thông tin" not in chat.text
    await chat.say("where can I exchange money")  # unknown, asked in English
    assert "Sorry, I have no information" in chat.text and "115" in chat.text
    await chat.say("sốt xuất huyết có lây không")  # a whole Vietnamese sentence switches back
    assert "Nguồn" in chat.text
    await chat.say("ok")
    assert "Source" not in chat.text and "Sorry" not in chat.text


def test_healthbot_ask_with_a_bare_number_gives_no_topic() -> None:
    # Issue 12: `healthbot ask --json 9` returned the vaccination schedule with score 1.0.
    from tests.test_cli import healthbot as cli

    for number in ("9", "1", "3", "12", "16"):
        data = json.loads(cli("ask", "--json", number).stdout)
        assert data["topic"] is None and data["score"] == 0.0, (number, data)
        assert "115" in data["text"]
