"""Question matching on the labelled resident questions, and robustness to odd input."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from content.matching import Matcher, MatchResult

QUESTIONS_TSV = Path(__file__).parent / "data" / "questions.tsv"
MIN_TOP1_ACCURACY = 0.95
MIN_OFF_TOPIC_PRECISION = 0.90


def _labelled() -> list[tuple[str, str | None]]:
    with QUESTIONS_TSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r["question"], r["expected_topic"] or None) for r in rows]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_default()


def test_labelled_set_is_large_and_varied() -> None:
    rows = _labelled()
    topics = Counter(t for _, t in rows)
    plain = sum(q.isascii() for q, _ in rows)
    assert len(rows) >= 330
    assert len([t for t in topics if t]) == 16
    assert topics[None] >= len(rows) * 0.10
    assert plain >= len(rows) / 3  # without diacritics (English counts: it has none either)


def test_top1_accuracy_and_off_topic_precision(matcher: Matcher) -> None:
    rows = _labelled()
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[str] = []
    correct = 0
    for question, expected in rows:
        got = matcher.match(question).topic
        if got == expected:
            correct += 1
        else:
            confusion[(expected or "-", got or "-")] += 1
            misses.append(f"  {question!r}: expected {expected or '-'}, got {got or '-'}")
    off_topic = [q for q, t in rows if t is None]
    off_ok = sum(matcher.match(q).topic is None for q in off_topic)
    accuracy, off_precision = correct / len(rows), off_ok / len(off_topic)
    summary = "\n".join([
        f"top-1 accuracy {accuracy:.3f}, off-topic precision {off_precision:.3f}",
        "confusion (expected -> got):",
        *(f"  {e} -> {g}: {n}" for (e, g), n in confusion.most_common()),
        "misses:", *misses,
    ])
    assert accuracy >= MIN_TOP1_ACCURACY, summary
    assert off_precision >= MIN_OFF_TOPIC_PRECISION, summary


@pytest.mark.parametrize(("question", "topic"), [
    ("sot xuat huyet co lay ko", "dengue"),
    ("the bhyt het han gia han o dau", "bhyt"),
    ("con 2 thang tiem mui gi", "vaccination"),
    ("SXH uống thuốc j hạ sốt", "dengue"),
    ("tcm co lay ko", "hfmd"),
    ("tay chân mồm ở trẻ", "hfmd"),
    ("sốt xuát huyết có lấy không", "dengue"),  # typos
    ("lich tiem chungg cho be", "vaccination"),
    ("thẻ bảo hiễm y tế hết hạn", "bhyt"),
    ("bà tôi 82 tuổi muốn khám sức khỏe", "elderly"),
    ("Is dengue contagious?", "dengue"),
    ("How much is household health insurance?", "bhyt"),
    ("What number do I call for an ambulance?", "emergency"),
])
def test_resident_phrasings(matcher: Matcher, question: str, topic: str) -> None:
    result = matcher.match(question)
    assert result.topic == topic, (question, result.topic, result.score)
    assert result.entry is not None and result.entry.topic_id == topic
    assert 0.0 < result.score <= 1.0


def test_english_question_matches_english_text(matcher: Matcher) -> None:
    result = matcher.match("how do I prevent dengue fever")
    assert result.entry is not None and result.entry.id == "dengue.prevention"
    assert result.locale == "en"


def test_answer_offers_related_follow_ups(matcher: Matcher) -> None:
    result = matcher.match("cách phòng chống sốt xuất huyết")
    assert result.entry is not None
    assert 2 <= len(result.related) <= 3
    assert all(e.approved for e in result.related)


@pytest.mark.parametrize("text", [
    "", "   ", "😀😷🤒", "asdkjh qwpoeiru zxmcnv", "?!?!...", "a" * 20_000,
    "xổ số " * 4_000, "chào bạn", "giá vàng hôm nay", "cho tôi vay 50 triệu",
])
def test_odd_or_off_topic_input_gives_no_topic(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert isinstance(result, MatchResult)
    assert result.topic is None and result.entry is None and result.related == []


def test_draft_entries_are_never_served(matcher: Matcher) -> None:
    drafts = [e for e in matcher.library.entries() if not e.approved]
    for entry in drafts:
        for question in entry.questions.get("vi", ()):
            result = matcher.match(question)
            assert result.entry is None or result.entry.approved, question
