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
from content.rules import is_official
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
# The red flags sourced on 30/11/2026: question -> (sourced step, cited source).
FIRST_AID_30_11 = {
    "bé bị hóc xương cá": ("vỗ mạnh giữa hai bả vai", "How to help a choking teenager or adult"),
    "be bi hoc di vat": ("2 ngón tay ấn mạnh giữa ngực", "First aid for a choking baby or child"),
    "my baby is choking": ("NO abdominal thrusts", "First aid for a choking baby or child"),
    "sốc phản vệ": ("bút tiêm adrenaline", "First aid – Anaphylaxis"),
    "bi di ung sung mat": ("kê cao chân", "Adrenaline auto-injectors"),
    "severe allergic reaction": ("Do not let them stand up", "Adrenaline auto-injectors"),
    "chảy máu nhiều không cầm được": ("ấn thật chặt", "Stop bleeding"),
    "the bleeding won't stop": ("Keep pressing", "Two first aid actions"),
    "bi dien giat": ("KHÔNG chạm vào người bệnh", "Electrical burns"),
    "he got electrocuted": ("wooden stick or chair", "Electrical burns"),
    "đau ngực dữ dội": ("tựa lưng vào tường", "may be having a heart attack"),
    "my husband has crushing chest pain": ("on the floor", "may be having a heart attack"),
}
NEW_ENTRIES = ("emergency.choking", "emergency.anaphylaxis", "emergency.bleeding",
               "emergency.electric-shock", "emergency.chest-pain")


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


@pytest.mark.parametrize("question", list(FIRST_AID_30_11))
async def test_choking_allergy_bleeding_shock_and_chest_pain_get_steps_after_115(
    healthbot, question: str
) -> None:
    chat = Transcript(healthbot)
    await chat.say(question)
    first = chat.replies[0]
    step, source = FIRST_AID_30_11[question]
    lines = first.text.splitlines()
    assert lines[0].startswith("🚑") and "115" in lines[0], "calling 115 is the very first line"
    assert step in "\n".join(lines[1:]), "the sourced step comes after 115"
    assert first.source and source in first.source
    assert "30/11/2026" in first.source or "30 November 2026" in first.source


async def test_a_choking_baby_is_never_told_to_get_abdominal_thrusts(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("con toi 6 thang bi hoc hat nhan")
    baby = next(line for line in chat.replies[0].text.splitlines() if "dưới 1 tuổi" in line)
    assert baby.startswith("• Trẻ dưới 1 tuổi: KHÔNG ép bụng")
    assert "vỗ lưng" in baby and "ấn mạnh giữa ngực" in baby


async def test_chest_pain_and_allergy_steps_give_no_drug_dose(healthbot) -> None:
    chat = Transcript(healthbot)
    for question in ("dau nguc du doi", "i think i'm having a heart attack", "soc phan ve"):
        await chat.say(question)
        text = chat.replies[0].text.lower()
        assert "aspirin" not in text and "mg" not in text, question


async def test_a_seizure_gets_no_invented_dose(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("con toi bi co giat")
    text = chat.replies[0].text.lower()
    assert "mg" not in text and "paracetamol" not in text


def test_the_new_first_aid_entries_cite_an_official_page_read_on_30_november() -> None:
    library = default_library()
    for entry_id in NEW_ENTRIES:
        entry = library.entry(entry_id)
        pages = [s for s in entry.sources if s.url and is_official(s)]
        assert pages, f"{entry_id}: no official first-aid page"
        assert entry.approved and entry.reviewed_on == dt.date(2026, 11, 30)


def test_every_first_aid_step_cites_an_official_page() -> None:
    library = default_library()
    for entry_id in ("emergency.seizure", "emergency.heat-stroke", "emergency.drowning",
                     "emergency.poisoning", "emergency.snake-bite"):
        entry = library.entry(entry_id)
        hosts = [s.url for s in entry.sources if s.url]
        assert any(".nhs.uk/" in url or "tongdai111.vn/" in url for url in hosts), entry_id
        assert entry.approved and entry.reviewed_on == dt.date(2026, 11, 29)


def test_the_content_check_passes_with_the_first_aid_entries() -> None:
    problems = check_library(None, dt.date(2026, 11, 30))
    errors = [p for p in problems if p.severity == ERROR]
    assert errors == []


@pytest.mark.parametrize(
    "question",
    ["bố tôi khó thở quá", "ong toi ngung tho", "he can't breathe", "bé thở rít, môi tím"],
)
async def test_breathing_trouble_without_choking_gets_no_back_blows_or_thrusts(
    healthbot, question: str
) -> None:
    """Back blows or abdominal thrusts on someone who is not choking (asthma, a heart attack,
    someone who stopped breathing) would harm: only a named choking gets the choking steps."""
    chat = Transcript(healthbot)
    await chat.say(question)
    text = chat.replies[0].text
    assert "115" in text.splitlines()[0] or "115" in text.splitlines()[1]
    for step in ("vỗ mạnh", "ép bụng", "giật mạnh", "back blows", "abdominal thrusts"):
        assert step not in text, (question, step)


@pytest.mark.parametrize(
    ("question", "step"),
    [("bé sau tiêm bị khó thở", "kê cao chân"), ("an tom xong sung moi kho tho", "kê cao chân"),
     ("my baby had her vaccine and now has trouble breathing", "legs raised")],
)
async def test_breathing_trouble_after_a_vaccine_or_food_gets_the_allergy_steps(
    healthbot, question: str, step: str
) -> None:
    chat = Transcript(healthbot)
    await chat.say(question)
    text = chat.replies[0].text
    assert step in text and "vỗ mạnh" not in text and "back blows" not in text, question
