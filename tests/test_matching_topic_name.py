"""A question that only names a topic gets the topic's main answer, not a side entry.

"sốt xuất huyết" used to answer with the dengue vaccine entry: every dengue entry covers the
three words, and the BM25 rank favoured the short entry that repeats them most.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from content.library import LibraryError, load_library
from content.matching import Matcher
from tests.library_files import edit
from tests.transcript import Transcript


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_default()


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("sot xuat huyet", "dengue.spread"),
        ("sốt xuất huyết", "dengue.spread"),
        ("sxh", "dengue.spread"),
        ("bệnh sốt xuất huyết", "dengue.spread"),
        ("dengue fever", "dengue.spread"),
        ("tay chân miệng", "hfmd.about"),
        ("khám sức khỏe", "health-check.free-yearly"),  # `main:` of the topic, not 7/4 day
        # A question that asks more than the name still gets the entry it asks for.
        ("sốt xuất huyết có vắc xin không", "dengue.vaccine"),
        ("tiêm phòng sốt xuất huyết ở đâu", "dengue.vaccine"),
    ],
)
def test_a_topic_name_alone_gets_the_main_answer(
    matcher: Matcher, question: str, entry: str
) -> None:
    result = matcher.match(question)
    assert result.entry is not None and result.entry.id == entry, result


async def test_a_resident_typing_sot_xuat_huyet_reads_how_dengue_spreads(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("sot xuat huyet")
    text = chat.replies[0].text
    assert text.startswith("Sốt xuất huyết Dengue lây")
    assert "Vắc xin sốt xuất huyết" not in text


def test_a_main_entry_that_is_not_in_the_topic_is_a_schema_error(library_copy: Path) -> None:
    edit(library_copy / "health-check.yaml", "main: health-check.free-yearly",
         "main: dengue.spread")
    with pytest.raises(LibraryError, match="health-check.yaml: field 'main'"):
        load_library(library_copy)
