"""A question that is an entry's title gets that entry, not a sibling that repeats its words.

"phòng sốt xuất huyết", the title of the dengue prevention entry, used to answer with the dengue
vaccine entry ("tiêm phòng sốt xuất huyết"): both cover the words, and the BM25 rank favoured the
short vaccine entry. "Very high blood pressure" (the hypertensive-crisis entry) got the
hypertension topic's main answer, whose name lacks only "very".
"""

from __future__ import annotations

import pytest

from content.library import default_library
from content.matching import Matcher
from content.normalize import match_form
from tests.transcript import Transcript


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_default()


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("phòng sốt xuất huyết", "dengue.prevention"),
        ("phong sot xuat huyet", "dengue.prevention"),  # the title without diacritics
        ("Phòng sốt xuất huyết?", "dengue.prevention"),
        ("cách phòng sốt xuất huyết", "dengue.prevention"),
        ("phòng bệnh sốt xuất huyết", "dengue.prevention"),
        ("Preventing dengue", "dengue.prevention"),  # the English title
        ("Very high blood pressure", "emergency.hypertensive-crisis"),
        ("báo vi phạm an toàn thực phẩm", "food-safety.report"),
        # A longer question, or a sibling's title, still gets the entry it asks for.
        ("tiêm phòng sốt xuất huyết", "dengue.vaccine"),
        ("vắc xin sốt xuất huyết", "dengue.vaccine"),
        ("tiem phong sot xuat huyet", "dengue.vaccine"),
        ("high blood pressure", "hypertension.about"),  # the topic's name: its main answer
        ("an toàn thực phẩm", "food-safety.basics"),  # ditto, though "an" is a function word
        ("Thuốc lá, rượu bia", "tobacco-alcohol.quit"),  # `main:`, not the e-cigarette ban
        ("About the health station", "station-info.contact"),
        ("sốt xuất huyết", "dengue.spread"),
    ],
)
def test_a_title_asked_alone_gets_its_entry(matcher: Matcher, question: str, entry: str) -> None:
    result = matcher.match(question)
    assert result.entry is not None and result.entry.id == entry, result


def test_every_title_asked_alone_gets_its_own_entry(matcher: Matcher) -> None:
    """Each approved entry's title in Vietnamese, in English and without diacritics; each topic's
    name gets the topic's main answer."""
    library = default_library()
    asked = []
    for topic in library.topics.values():
        for title in topic.titles.values():
            asked.append((title, topic.main_entry_id))
        for entry in topic.entries:
            if entry.approved:
                asked += [(title, entry.id) for title in entry.titles.values()]
                asked.append((match_form(entry.title("vi")), entry.id))
    wrong = [(question, expected, getattr(matcher.match(question).entry, "id", None))
             for question, expected in asked]
    wrong = [row for row in wrong if row[1] != row[2]]
    assert len(asked) > 200 and not wrong, wrong


async def test_a_resident_typing_phong_sot_xuat_huyet_reads_the_six_actions(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("phong sot xuat huyet")
    text = chat.replies[0].text
    assert text.startswith("Bộ Y tế khuyến cáo 6 việc để phòng sốt xuất huyết")
