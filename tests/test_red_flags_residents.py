"""Red flags in messages as residents really send them: long rambling texts, ages and
temperatures written loosely (found by an exploratory pass over a few hundred resident-style
messages; the short ones are in tests/data/red_flags.tsv and near_misses.tsv).
"""

from __future__ import annotations

import pytest

from bot.model import TELEGRAM
from content.red_flags import detect
from tests.transcript import Transcript

# A voice-to-text style paragraph that tells the family's story before the danger.
STORY = (
    "da thua bac si cho con hoi chuyen nha con mot chut, nha con o to 5 gan cho, "
    "hom truoc con co dua chau di tiem o tram, co y ta rat nhiet tinh, con cam on nhieu a. "
)


@pytest.mark.parametrize("length", [2500, 3900])
async def test_danger_told_at_the_end_of_a_long_message_is_answered_first(
    healthbot, length: int
) -> None:
    # Telegram delivers up to 4096 characters and the engine takes 4000: the end is read too.
    text = (STORY * (length // len(STORY) + 1))[: length - 40] + " gio chau dang co giat tim tai"
    assert len(text) <= 4000
    chat = Transcript(healthbot, TELEGRAM, "telegram", "5001")
    await chat.say(text)
    assert chat.replies[0].text.startswith("🚑 Người đang co giật: gọi ngay 115")


def test_the_rule_that_comes_first_wins_across_a_long_message() -> None:
    # Suicide talk is answered before a bleeding note, wherever each is in the text.
    text = "tay bi dut chay mau nhieu qua. " + STORY * 30 + " em chi muon chet cho xong"
    assert len(text) > 4000
    flag = detect(text)
    assert flag is not None and flag.kind == "suicide"


@pytest.mark.parametrize(
    ("question", "alarm"),
    [
        ("bé dưới 3 tháng bị sốt", True),  # under 3 months
        ("be duoi 2 thang sot", True),
        ("be 2 thang 38 do", True),  # a temperature from 38 °C is a fever
        ("bé 6 tuần nhiệt độ 38,5 độ", True),
        ("be duoi 6 thang sot", False),  # not known to be under 3 months
        ("bé 2 tháng nhiệt độ 37 độ", False),
        ("bé sốt dưới 3 ngày", False),  # how long, not how old
    ],
)
def test_a_babys_age_and_temperature_are_read_loosely(question: str, alarm: bool) -> None:
    flag = detect(question)
    assert (flag is not None and flag.kind == "infant_fever") is alarm, flag


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("bau 35 tuan bi ra nuoc oi", "pregnancy_bleeding"),  # two-digit weeks
        ("bo toi bi soc thuoc sau khi tiem", "anaphylaxis"),  # "thuốc sau" is not pesticide
        ("snake bit my leg", "snake_bite"),  # "bit" is not the teencode for "biết"
    ],
)
def test_words_that_once_led_elsewhere(question: str, kind: str) -> None:
    flag = detect(question)
    assert flag is not None and flag.kind == kind, flag


@pytest.mark.parametrize(
    "text",
    [
        "tôi muốn t\u200bự t\u200bử",  # a zero-width space left by copy-paste
        "toi muon t\u00adu t\u00adu",  # a soft hyphen
        "con tôi đang co gi\u200dật",  # a zero-width joiner
        "\u202bcon toi dang co giat\u202c",  # direction marks around the text
    ],
)
async def test_invisible_characters_inside_words_do_not_hide_danger(healthbot, text: str) -> None:
    chat = Transcript(healthbot, chat_id="invisible")
    await chat.say(text)
    got = chat.replies[0]
    visible = "".join(c for c in text if c.isprintable() and c not in "\u00ad")
    await chat.say(visible)
    expected = chat.replies[0]
    assert expected.topic == "emergency"  # the text without the invisible characters alarms
    assert (got.topic, got.text) == (expected.topic, expected.text)


@pytest.mark.parametrize(
    ("text", "english"),
    [("my mum is suddenly confused and doesn't know me", True),
     ("my baby will be fine", True),
     ("me toi bi dau nguc", False), ("be co giat", False), ("me kho tho", False)],
)
def test_me_and_be_are_english_words_too(text: str, english: bool) -> None:
    """"me" (mẹ) and "be" (bé) alone do not make an English message Vietnamese."""
    from content.red_flags import looks_english

    assert looks_english(text) is english
