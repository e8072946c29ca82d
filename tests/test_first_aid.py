"""Sourced first aid after "call 115" (health-facts.md §8.1, docs/safety.md "First aid").

A red flag whose official first-aid page was found answers with "call 115" first and then the
steps that page gives, with the page among the sources; the others still say "call 115, stay on
the line". The sources are listed in docs/safety.md.
"""

from __future__ import annotations

import datetime as dt

import pytest

from content.check import ERROR, check_library
from content.library import default_library
from tests.transcript import Transcript

# question -> (a sourced step the answer must carry, the source it must cite)
FIRST_AID = {
    "con toi bi co giat": ("đặt nằm nghiêng", "What to do if someone has a seizure (fit)"),
    "con tôi đang co giật": ("kể cả ngón tay", "University Hospital Southampton"),
    "my son is having a seizure": ("not even your fingers", "What to do if someone has a seizure"),
    "bố tôi bị say nắng ngất xỉu": ("quấn khăn ướt", "Heatwave health advice"),
    "heatstroke, he collapsed": ("damp sheet", "Heatwave health advice"),
    "be bi roi xuong ao": ("giữ ấm", "Cách sơ cứu khi trẻ bị đuối nước"),
    "uong nham thuoc tru sau": ("không cố làm cho nôn", "Poisoning – treatment"),
    "bố tôi bị rắn lục cắn": ("Không hút nọc", "Treating snake bites"),
    "bitten by a snake": ("Do not suck or cut the bite", "Treating snake bites"),
}


@pytest.mark.parametrize("question", list(FIRST_AID))
async def test_a_red_flag_with_an_official_page_gets_its_steps_after_115(
    healthbot, question: str
) -> None:
    chat = Transcript(healthbot)
    await chat.say(question)
    first = chat.replies[0]
    step, source = FIRST_AID[question]
    assert "115" in first.text.splitlines()[0], "calling 115 stays the first line"
    assert step in first.text
    assert first.source and source in first.source
    assert "29/11/2026" in first.source or "29 November 2026" in first.source


async def test_a_seizure_gets_no_invented_dose(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("con toi bi co giat")
    text = chat.replies[0].text.lower()
    assert "mg" not in text and "paracetamol" not in text


def test_every_first_aid_step_cites_an_official_page() -> None:
    library = default_library()
    for entry_id in ("emergency.seizure", "emergency.heat-stroke", "emergency.drowning",
                     "emergency.poisoning", "emergency.snake-bite"):
        entry = library.entry(entry_id)
        hosts = [s.url for s in entry.sources if s.url]
        assert any(".nhs.uk/" in url or "tongdai111.vn/" in url for url in hosts), entry_id
        assert entry.approved and entry.reviewed_on == dt.date(2026, 11, 29)


def test_the_content_check_passes_with_the_first_aid_entries() -> None:
    problems = check_library(None, dt.date(2026, 11, 29))
    errors = [p for p in problems if p.severity == ERROR]
    assert errors == []
