"""Questions as residents and foreign visitors really type them (an exploratory pass over a few
hundred such messages): a keyword-only English question is answered in English, and subjects
the library does not cover get "I don't know" rather than a confident wrong entry.
"""

from __future__ import annotations

import pytest

from content.matching import Matcher
from tests.transcript import Transcript


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_default()


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("measles vaccine age", "measles.vaccine"),
        ("flu shot", "flu.vaccine"),
        ("vaccine schedule", "vaccination.schedule"),
        ("health station phone number", "station-info.contact"),
    ],
)
def test_english_keywords_without_a_function_word_are_english(
    matcher: Matcher, question: str, entry_id: str
) -> None:
    result = matcher.match(question)
    assert result.entry is not None and result.entry.id == entry_id, result
    assert result.locale == "en"


@pytest.mark.parametrize("question", ["vaccine rota", "vaccine 5 trong 1", "sxh", "bhyt"])
def test_words_shared_by_both_languages_keep_the_residents_language(
    matcher: Matcher, question: str
) -> None:
    result = matcher.match(question)
    assert result.entry is not None
    assert result.locale is None  # unclear: the bot keeps the language of the conversation


async def test_a_visitor_typing_english_keywords_gets_english(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="visitor-en")
    await chat.say("measles vaccine age")
    (answer,) = chat.replies
    assert answer.topic == "measles"
    assert "months" in answer.text and "tháng" not in answer.text, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "chó nhà tôi chưa tiêm phòng dại, tiêm ở đâu",  # was: tetanus in pregnancy
        "covid con tiem ko",  # was: tetanus in pregnancy
        "tiem covid o dau",  # was: newborn vaccines
        "huyet ap thap thi an gi",  # was: what high blood pressure is
        "goi 115 co mat tien ko",  # was: vaccines are free (what 115 costs is not sourced)
    ],
)
def test_subjects_the_library_does_not_cover_get_no_entry(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.entry is None, (question, result.entry and result.entry.id)


def test_a_lost_card_is_answered_by_the_card_entry_not_renewal(matcher: Matcher) -> None:
    result = matcher.match("the bhyt cua me toi bi mat lam lai o dau")
    assert result.entry is not None and result.entry.id == "bhyt.card"


@pytest.mark.parametrize(
    "question", ["what vaccines does my 9 month old need", "vaccines for my 18 month old"]
)
def test_an_older_baby_is_not_given_the_two_month_doses(matcher: Matcher, question: str) -> None:
    """A parent naming an age other than 2 months gets the whole schedule, not "at 2 months"."""
    assert matcher.match(question).entry.id == "vaccination.schedule"


async def test_a_thank_you_gets_a_courtesy_not_an_apology(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="thanks")
    await chat.say("cảm ơn")
    assert "chưa có thông tin" not in chat.text and "Vâng ạ" in chat.text and "115" in chat.text
    await chat.say("thank you")
    assert "All right" in chat.text and "115" in chat.text
    assert [b.label for b in chat.buttons()] == ["Health topics", "Main menu"]


async def test_an_english_answer_has_english_buttons(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="visitor-buttons")  # a Vietnamese-default chat
    await chat.say("where is the clinic")
    assert chat.replies[0].topic == "station-info" and "Address" in chat.text
    labels = [b.label for b in chat.buttons()]
    assert "Main menu" in labels and "Menu chính" not in labels, labels


@pytest.mark.parametrize(
    "text", ["do you speak english", "Hello, do you speak English?", "I don't speak Vietnamese"]
)
async def test_asking_for_english_offers_the_language_choice(healthbot, text: str) -> None:
    chat = Transcript(healthbot, chat_id="visitor-lang")
    await chat.say(text)
    assert "lang:en" in {b.data for b in chat.buttons()}, chat.text


async def test_the_ask_prompt_has_a_way_back_and_an_example_that_works(healthbot) -> None:
    chat = Transcript(healthbot, chat_id="asker")
    await chat.send(button="lang:en")
    await chat.send(button="ask")
    assert [b.data for b in chat.buttons()] == ["menu"]  # not a dead end
    example = chat.text.split('"')[1]
    await chat.say(example)
    assert chat.replies[0].topic == "vaccination" and "2 months" in chat.text
