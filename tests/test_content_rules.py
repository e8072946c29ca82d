"""`healthbot content check` policies of issue 15: official sources, review age, year-bound text.

Each test breaks one thing in a copy of the shipped library and expects the check to fail on it
(exit code 1, the entry named); the shipped library itself passes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from content.check import check_library, main
from content.library import Source, load_library
from content.rules import is_not_a_source, is_official, year_bound_problems
from tests.library_files import edit

TODAY = dt.date(2026, 11, 30)




def _errors(path: Path, **kw: object) -> list[tuple[str, str, str]]:
    return [(p.entry, p.field, p.message) for p in check_library(path, TODAY, **kw)  # type: ignore[arg-type]
            if p.severity == "error"]


def test_the_shipped_library_passes_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--today", TODAY.isoformat()]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_every_approved_shipped_entry_cites_an_official_source() -> None:
    for entry in load_library().entries():
        if entry.approved:
            assert any(is_official(s) for s in entry.sources), entry.id
            assert not any(is_not_a_source(s) for s in entry.sources), entry.id


def test_an_entry_citing_only_a_news_site_fails(library_copy: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    edit(library_copy / "hypertension.yaml",
          "      - issuer: Bộ Y tế\n        title: Hướng dẫn chẩn đoán, điều trị, quản lý tăng huyết"
          " áp tại trạm y tế\n        document: Quyết định 5904/QĐ-BYT ngày 20/12/2019\n"
          "        date: 2019-12-20\n", "")
    assert main(["--path", str(library_copy), "--today", TODAY.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "hypertension.measure-day" in out and "no official primary source" in out


def test_a_code_repository_is_never_a_source(library_copy: Path) -> None:
    edit(library_copy / "flu.yaml", "        url: https://www.who.int/news-room/fact-sheets/detail/"
          "influenza-(seasonal)\n        date: \"2023\"\n",
          "        url: https://www.who.int/news-room/fact-sheets/detail/influenza-(seasonal)\n"
          "        date: \"2023\"\n      - issuer: someone\n        title: notes\n"
          "        url: https://github.com/someone/health-notes\n        date: \"2024\"\n")
    errors = _errors(library_copy)
    assert [(e, f) for e, f, _ in errors] == [("flu.about", "sources[1].url")]
    assert "not a source" in errors[0][2]


def test_an_entry_past_its_review_age_fails_and_the_age_is_configurable(
        library_copy: Path) -> None:
    edit(library_copy / "diabetes.yaml", "    reviewed_on: 2026-11-22\n",
          "    reviewed_on: 2025-10-15\n")
    errors = _errors(library_copy)
    assert [(e, f) for e, f, _ in errors] == [("diabetes.screening", "reviewed_on")]
    assert "more than 12 months ago" in errors[0][2]
    # 13 months old is fine with an 18-month limit, and a 1-month limit catches the rest too
    assert _errors(library_copy, max_review_months=18) == []
    assert len(_errors(library_copy, max_review_months=0)) > 10


def test_review_age_boundary_is_exactly_twelve_months(library_copy: Path) -> None:
    edit(library_copy / "diabetes.yaml", "    reviewed_on: 2026-11-22\n",
          "    reviewed_on: 2025-11-30\n")
    assert _errors(library_copy) == []  # exactly 12 months: still fine
    edit(library_copy / "diabetes.yaml", "    reviewed_on: 2025-11-30\n",
          "    reviewed_on: 2025-11-29\n")
    assert [(e, f) for e, f, _ in _errors(library_copy)] == [("diabetes.screening", "reviewed_on")]


def test_year_bound_text_fails(library_copy: Path) -> None:
    edit(library_copy / "health-check.yaml", "Ngày Sức khỏe thế giới. Nhiều nơi",
          "Ngày Sức khỏe thế giới. Chủ đề năm 2026: \"Chủ động phòng bệnh\". Nhiều nơi")
    edit(library_copy / "measles.yaml", "Sởi thường bùng phát lớn",
          "Dịch sởi năm nay rất lớn. Sởi thường bùng phát lớn")
    errors = {(e, f) for e, f, _ in _errors(library_copy)}
    assert errors == {("health-check.day-7-4", "text.vi"), ("measles.outbreak", "text.vi")}


@pytest.mark.parametrize(("text", "locale", "bound"), [
    ("Dịch sởi năm nay có 45.554 ca nghi.", "vi", True),
    ("Năm 2024 cả nước ghi nhận 45.554 ca nghi sởi.", "vi", False),
    ("Cả nước có khoảng 800.000 ca cúm mỗi năm.", "vi", True),
    ("Theo Bộ Y tế năm 2019, khoảng 800.000 ca cúm mỗi năm.", "vi", False),
    ("The 2026 theme: prevent disease.", "en", True),
    ("Last year there were many cases.", "en", True),
    ("26.2% of adults have hypertension.", "en", True),
    ("26.2% of adults had hypertension (STEPS 2021).", "en", False),
    ("Người thứ nhất đóng 4,5% lương cơ sở.", "vi", False),  # a rule, not a statistic
    ("Mũi 3 cách mũi 2 một năm sau.", "vi", False),
])
def test_year_bound_detection(text: str, locale: str, bound: bool) -> None:
    assert bool(year_bound_problems(text, locale)) is bound


@pytest.mark.parametrize(("source", "official"), [
    (Source("Bộ Y tế", "x", url="https://moh.gov.vn/tin-tuc"), True),
    (Source("Cục An toàn thực phẩm", "x", url="https://vfa.gov.vn"), True),
    (Source("WHO", "x", url="https://www.who.int/news-room/fact-sheets/detail/dengue"), True),
    (Source("Chính phủ", "x", document="Nghị định 188/2025/NĐ-CP"), True),
    (Source("Bộ Chính trị", "x", document="Nghị quyết 72-NQ/TW ngày 9/9/2025"), True),
    (Source("{station_name}", "x", document="Cấu hình của Trạm Y tế"), True),
    (Source("Bộ Y tế", "x", document="Khuyến cáo đăng lại trên kntb.vn"), False),
    (Source("Báo Nhân Dân", "x", url="https://nhandan.vn/abc"), False),
    (Source("afamily", "x", url="https://afamily.vn/tiem-vac-xin-cum.html"), False),
    (Source("Bộ Y tế (qua kenh14)", "x", url="https://kenh14.vn/abc"), False),
    (Source("fake", "x", url="https://moh.gov.vn.example.com"), False),
])
def test_official_source_allow_list(source: Source, official: bool) -> None:
    assert is_official(source) is official


@pytest.mark.parametrize(("text", "ambiguous"), [
    ("Accepted since 1/6/2021.", True),
    ("Campaigns from 9/2024.", True),
    ("Accepted since 1 June 2021.", False),
    ("Circulars 10/2024 and 52/2025 set the ages.", False),  # document numbers
    ("Employer 2/3, employee 1/3.", False),
])
def test_english_numeric_dates_are_flagged(text: str, ambiguous: bool) -> None:
    from content.rules import ambiguous_dates

    assert bool(ambiguous_dates(text, "en")) is ambiguous
    assert ambiguous_dates(text, "vi") == []  # dd/mm/yyyy is how Vietnamese readers write dates


def test_a_numeric_english_date_fails_the_check(library_copy: Path) -> None:
    edit(library_copy / "bhyt.yaml", "(accepted since 1 June 2021)", "(accepted since 1/6/2021)")
    assert [(e, f) for e, f, _ in _errors(library_copy)] == [("bhyt.card", "text.en")]


def test_the_healthbot_command_takes_the_review_age(library_copy: Path) -> None:
    from tests.test_cli import healthbot

    edit(library_copy / "diabetes.yaml", "    reviewed_on: 2026-11-22\n",
          "    reviewed_on: 2025-10-15\n")
    strict = healthbot("content", "check", "--path", str(library_copy), "--today", "2026-11-30")
    assert strict.returncode == 1 and "diabetes.screening" in strict.stdout
    lenient = healthbot("content", "check", "--path", str(library_copy), "--today", "2026-11-30",
                        "--max-review-months", "18")
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
