"""The library says what is true today (issue 15): the immunisation basis in force, the northern
dengue season, vitamin A round 2, flu symptoms, ways to show the BHYT card, the ≥ 75 rule, the
questions nobody could answer, and no stale hotline."""

from __future__ import annotations

import datetime as dt

import pytest

from content.library import Library, load_library
from content.matching import Matcher
from content.render import render_entry
from content.station import StationInfo

STATION = StationInfo(name="Trạm Y tế phường Thử Nghiệm", ward="Phường Thử Nghiệm",
                      address="12 Đường Hoa Sữa", phone="024 3999 0000",
                      hours={"vi": "7:30–16:30", "en": "7:30–16:30"})
TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def _text(library: Library, entry_id: str, locale: str = "vi") -> str:
    return render_entry(library.entry(entry_id), locale, STATION, today=TODAY,
                        library=library).text


def test_no_answer_presents_the_repealed_circulars_as_current(library: Library) -> None:
    for entry in library.entries():
        for locale in ("vi", "en"):
            text = entry.text(locale)
            assert "theo Thông tư 10/2024 và 52/2025" not in text, entry.id
            assert "Circulars 10/2024 and 52/2025)" not in text, entry.id
    answer = render_entry(library.entry("vaccination.schedule"), "vi", STATION, today=TODAY)
    assert "Thông tư 13/2026" in answer.text and "Cục Phòng bệnh" in answer.text
    assert answer.source_line.startswith("Nguồn: Bộ Y tế – Thông tư 13/2026/TT-BYT")
    assert "thay Thông tư 52/2025" in _text(library, "vaccination.free")


def test_northern_dengue_season_no_longer_says_april(library: Library) -> None:
    season = library.entry("dengue.season")
    assert "tháng 4 đến tháng 10" not in season.text("vi")
    assert "cao điểm khoảng tháng 9–11" in season.text("vi")
    assert "April–October" not in season.text("en")


def test_vitamin_a_message_announces_both_rounds(library: Library) -> None:
    vi = _text(library, "vaccination.vitamin-a")
    assert "đợt 1 ngày 1–2/6" in vi and "đợt 2 ngày 1–2/12" in vi
    assert "1–2 December" in _text(library, "vaccination.vitamin-a", "en")


def test_flu_answer_gives_symptoms_with_an_official_source(library: Library) -> None:
    answer = render_entry(library.entry("flu.about"), "vi", STATION, today=TODAY)
    for symptom in ("sốt", "ho", "đau đầu", "đau cơ", "đau họng"):
        assert symptom in answer.text
    assert "World Health Organization" in answer.source_line


@pytest.mark.parametrize(("question", "entry_id", "expected"), [
    ("dùng vneid thay thẻ bhyt được không", "bhyt.card", "VNeID"),
    ("đóng bhyt online được không", "bhyt.how-to-pay", "chưa có văn bản chính thức"),
    ("bhyt đóng 6 tháng được không", "bhyt.how-to-pay", "3, 6 hay 12 tháng"),
    ("ông tôi 75 tuổi được miễn phí bhyt không", "elderly.bhyt", "41/2024/QH15"),
])
def test_questions_that_had_no_answer_now_get_one(library: Library, question: str,
                                                   entry_id: str, expected: str) -> None:
    result = Matcher(library).match(question, "vi")
    assert result.entry is not None and result.entry.id == entry_id, question
    assert expected in _text(library, entry_id)


def test_the_2016_food_safety_hotline_is_gone(library: Library) -> None:
    for entry in library.entries():
        assert "0911.811.556" not in entry.text("vi") and "3232" not in entry.text("vi"), entry.id
    assert "vfa.gov.vn" in _text(library, "food-safety.report")


def test_foreign_residents_are_not_told_a_2013_rule(library: Library) -> None:
    vi = _text(library, "bhyt.who-pays")
    assert "hợp đồng từ 3 tháng" not in vi and "Người nước ngoài" in vi
