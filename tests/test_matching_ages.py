"""A question that states an age never gets an entry written for another age (`ages:`)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from content.ages import stated_ages
from content.library import Library, LibraryError, load_library
from content.matching import Matcher
from content.normalize import match_form
from tests.library_files import edit

QUESTIONS_TSV = Path(__file__).parent / "data" / "questions.tsv"
SCHEDULE, TWO_MONTHS = "vaccination.schedule", "vaccination.two-months"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_library())


def _entry_id(matcher: Matcher, question: str) -> str | None:
    result = matcher.match(question)
    return result.entry.id if result.entry else None


@pytest.mark.parametrize(
    "question",
    [
        "bé 9 tháng tiêm gì",
        "be 9 thang tiem gi",
        "bé 4 tháng tiêm gì",
        "be 4 thang tiem gi",
        "bé 1 tuổi tiêm mũi gì",
        "bé 2 tuổi tiêm gì",
        "trẻ 6 tháng tiêm gì",
        "bé 1 tháng tiêm gì",
        "what vaccines does my 10 month old need",
        "what vaccines does my 9-month-old need",
        "my 4 month old vaccines",
        "vaccines for a 5 months old baby",
    ],
)
def test_another_age_gets_the_schedule_not_the_two_month_doses(
    matcher: Matcher, question: str
) -> None:
    assert _entry_id(matcher, question) == SCHEDULE


@pytest.mark.parametrize(
    "question",
    [
        "bé 1 tháng tiêm bcg được không",
        "con 6 tháng chưa tiêm bcg",
        "bé 5 tháng tiêm viêm gan b",
        "bé 3 tháng tiêm viêm gan b sơ sinh được không",
    ],
)
def test_an_older_baby_is_not_given_the_newborn_doses(matcher: Matcher, question: str) -> None:
    assert _entry_id(matcher, question) == SCHEDULE


@pytest.mark.parametrize("question", ["bé 2 ngày tuổi tiêm gì", "bé 10 ngày tuổi tiêm gì"])
def test_a_newborn_is_not_given_the_two_month_doses(matcher: Matcher, question: str) -> None:
    assert _entry_id(matcher, question) in {SCHEDULE, "vaccination.newborn"}


@pytest.mark.parametrize(
    "question",
    [
        "con 2 tháng tiêm mũi gì",
        "con 2 thang tiem mui gi",
        "bé 2 tháng tuổi tiêm những gì",
        "bé 3 tháng tiêm gì",
        "what vaccines does my 2 month old need",
        "vaccines for a 2-month-old",
    ],
)
def test_the_right_age_still_gets_the_two_month_doses(matcher: Matcher, question: str) -> None:
    assert _entry_id(matcher, question) == TWO_MONTHS


def test_a_child_is_not_given_the_older_peoples_home_care(matcher: Matcher) -> None:
    """Nothing else fits an 8-year-old who cannot walk: the bot says it does not know."""
    assert _entry_id(matcher, "ông tôi 80 tuổi đi lại khó khăn") == "elderly.home-care"
    result = matcher.match("con tôi 8 tuổi đi lại khó khăn trạm có khám tại nhà không")
    assert result.topic != "elderly"


def test_an_older_parent_still_gets_the_older_peoples_answer(matcher: Matcher) -> None:
    assert _entry_id(matcher, "mẹ tôi 70 tuổi có nên tiêm phòng cúm không") == "elderly.flu"
    assert _entry_id(matcher, "bố tôi 65 tuổi bhyt thế nào") == "elderly.bhyt"


def test_rotavirus_age_limit_is_in_the_schedule_an_older_baby_gets(matcher: Matcher) -> None:
    """The 2-month entry said "before 6 months"; the schedule that now answers says it too."""
    result = matcher.match("bé 7 tháng uống rota được không")
    assert result.entry is not None and result.entry.id == SCHEDULE
    assert "trước 6 tháng" in result.entry.text("vi")
    assert "by 6 months" in result.entry.text("en")


@pytest.mark.parametrize(
    ("question", "ages"),
    [
        ("bé 9 tuần", 1),
        ("18 tháng tuổi", 1),
        ("con tôi 7 tuổi", 1),
        ("a 7 years old", 1),
        ("2 thang", 1),
        ("my 2-month-old", 1),
        ("ông bà trên 60 tuổi", 1),
        ("ho 2 tuần nay", 0),
        ("có thai 3 tháng", 0),
        ("ngày 2 tháng 9", 0),
        ("sốt 3 ngày", 0),
        ("coughing for 3 weeks", 0),
        ("smoked for 20 years", 0),
        ("uống vitamin A đợt 2 tháng 12", 0),
    ],
)
def test_durations_dates_and_pregnancy_are_not_ages(question: str, ages: int) -> None:
    assert len(stated_ages(match_form(question))) == ages


def _without_ages(library: Library) -> Library:
    topics = {
        tid: replace(topic, entries=tuple(replace(e, ages=None) for e in topic.entries))
        for tid, topic in library.topics.items()
    }
    return Library(
        topics=topics, _entries={e.id: e for topic in topics.values() for e in topic.entries}
    )


def test_questions_without_an_age_are_answered_as_without_ages() -> None:
    library = load_library()
    with QUESTIONS_TSV.open(encoding="utf-8", newline="") as handle:
        labelled = [
            row["question"]
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
    samples = [q for e in library.entries() for qs in e.questions.values() for q in qs]
    questions = [q for q in labelled + samples if not stated_ages(match_form(q))]
    assert len(questions) > 500
    with_ages, without = Matcher(library), Matcher(_without_ages(library))
    for question in questions:
        assert _answer(with_ages, question) == _answer(without, question), question


def _answer(matcher: Matcher, question: str) -> tuple[str | None, float, str | None]:
    result = matcher.match(question)
    return (result.entry.id if result.entry else None), result.score, result.locale


def test_the_loader_rejects_a_malformed_ages_field(library_copy: Path) -> None:
    edit(
        library_copy / "vaccination.yaml",
        "ages: {from: 2 months, under: 4 months}",
        "ages: {from: 2 moons}",
    )
    with pytest.raises(LibraryError, match=r"vaccination.two-months.*field 'ages'.*moons"):
        load_library(library_copy)


def test_the_loader_rejects_a_sample_question_outside_the_ages(library_copy: Path) -> None:
    edit(
        library_copy / "vaccination.yaml", "- con 2 thang tiem mui gi", "- con 9 thang tiem mui gi"
    )
    with pytest.raises(LibraryError, match=r"two-months.*'con 9 thang tiem mui gi'.*outside"):
        load_library(library_copy)
