"""Dated facts: the BHYT base salary is picked for the day the question is asked (issue 15)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import load_settings
from content.bhyt import (
    BaseSalaryError,
    base_salary_on,
    household_rates,
    load_base_salaries,
)
from content.library import Library, load_library
from content.render import render_entry
from content.station import StationInfo

STATION = StationInfo(name="Trạm Y tế phường Thử Nghiệm", ward="Phường Thử Nghiệm",
                      address="12 Đường Hoa Sữa", phone="024 3999 0000",
                      hours={"vi": "7:30–16:30", "en": "7:30–16:30"})
LAST_DAY_OF_DECREE_73 = dt.date(2026, 6, 30)
FIRST_DAY_OF_DECREE_161 = dt.date(2026, 7, 1)
# health-facts.md §2.3, 12-month amounts per household member (1st .. 5th+).
YEARLY_AT_2_34M = ("1.263.600 ₫", "884.520 ₫", "758.160 ₫", "631.800 ₫", "505.440 ₫")
YEARLY_AT_2_53M = ("1.366.200 ₫", "956.340 ₫", "819.720 ₫", "683.100 ₫", "546.480 ₫")


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")  # Babel puts a no-break space before ₫


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def _rates(library: Library, day: dt.date, locale: str = "vi", **kw: int) -> tuple[str, str]:
    answer = render_entry(library.entry("bhyt.rates"), locale, STATION, today=day,
                          library=library, **kw)
    return _plain(answer.text), answer.source_line


def test_the_table_holds_the_three_decrees_of_health_facts() -> None:
    table = load_base_salaries()
    assert [(p.start, p.amount) for p in table] == [
        (dt.date(2023, 7, 1), 1_800_000), (dt.date(2024, 7, 1), 2_340_000),
        (dt.date(2026, 7, 1), 2_530_000)]
    assert [p.document for p in table] == [
        "Nghị định 24/2023/NĐ-CP", "Nghị định 73/2024/NĐ-CP", "Nghị định 161/2026/NĐ-CP"]


def test_asked_on_30_june_2026_the_decree_73_amounts_apply(library: Library) -> None:
    text, source = _rates(library, LAST_DAY_OF_DECREE_73)
    assert "lương cơ sở 2.340.000 ₫/tháng" in text and "Áp dụng từ 01/07/2024" in text
    for amount in YEARLY_AT_2_34M:
        assert amount in text
    assert "1.366.200" not in text and "2.530.000" not in text
    assert "Nghị định 73/2024/NĐ-CP" in source and "161/2026" not in source
    # the period before: Decree 24/2023, 1.800.000 ₫ → 4.5% x 12 = 972.000 ₫ for the 1st member
    assert "Trước 01/07/2024, lương cơ sở là 1.800.000 ₫" in text and "972.000 ₫/năm" in text


def test_asked_on_1_july_2026_the_decree_161_amounts_apply(library: Library) -> None:
    text, source = _rates(library, FIRST_DAY_OF_DECREE_161)
    assert "lương cơ sở 2.530.000 ₫/tháng" in text and "Áp dụng từ 01/07/2026" in text
    for amount in YEARLY_AT_2_53M:
        assert amount in text
    assert "Nghị định 161/2026/NĐ-CP" in source and "73/2024" not in source
    # a card paid before 1/7/2026 still needs the old figure, labelled with its period
    assert "Trước 01/07/2026, lương cơ sở là 2.340.000 ₫: người thứ nhất đóng 1.263.600 ₫/năm" \
        in text


def test_english_names_the_period_without_an_ambiguous_date(library: Library) -> None:
    text, source = _rates(library, FIRST_DAY_OF_DECREE_161, "en")
    assert "In force from 1 July 2026." in text and "₫1,366,200" in text
    assert "Before 1 July 2026, the base salary was ₫2,340,000" in text
    assert "1/7/2026" not in text and "Nghị định 161/2026/NĐ-CP" in source


def test_monthly_and_yearly_amounts_follow_the_rates_for_both_bases() -> None:
    assert [r.yearly for r in household_rates(2_340_000)] == [
        1_263_600, 884_520, 758_160, 631_800, 505_440]
    assert [r.monthly for r in household_rates(2_340_000)] == [
        105_300, 73_710, 63_180, 52_650, 42_120]
    assert [r.yearly for r in household_rates(2_530_000)] == [
        1_366_200, 956_340, 819_720, 683_100, 546_480]
    assert [r.monthly for r in household_rates(2_530_000)] == [
        113_850, 79_695, 68_310, 56_925, 45_540]


def test_a_configured_base_salary_overrides_the_table_for_every_date(library: Library) -> None:
    text, source = _rates(library, FIRST_DAY_OF_DECREE_161, base_salary=2_600_000)
    assert "2.600.000 ₫/tháng" in text and "2.530.000" not in text
    assert "Áp dụng từ" not in text and "Trước" not in text  # no table period is claimed
    assert "{" not in text and "161/2026" not in source


def test_config_default_is_no_override(tmp_path: Path) -> None:
    assert load_settings(None, env={}).bhyt.base_salary == 0
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    assert load_settings(example, env={}).bhyt.base_salary == 0


def test_before_the_first_row_the_oldest_known_amount_is_used() -> None:
    assert base_salary_on(dt.date(2020, 1, 1)).amount == 1_800_000
    assert base_salary_on(dt.date(2024, 6, 30)).amount == 1_800_000
    assert base_salary_on(dt.date(2024, 7, 1)).amount == 2_340_000


def test_a_broken_table_is_refused_with_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "base_salary.yaml"
    bad.write_text("periods:\n  - {from: 2026-07-01, amount: 2530000, document: ND}\n"
                   "  - {from: 2024-07-01, amount: 2340000, document: ND}\n", encoding="utf-8")
    with pytest.raises(BaseSalaryError, match="date order"):
        load_base_salaries(bad)
    bad.write_text("periods:\n  - {from: 2026-07-01, amount: '2.530.000', document: ND}\n",
                   encoding="utf-8")
    with pytest.raises(BaseSalaryError, match="period #1.*amount"):
        load_base_salaries(bad)


def test_the_vietnamese_day_counts_not_the_utc_one(library: Library) -> None:
    # 00:30 on 1/7/2026 in Vietnam is still 30/6 in UTC: the resident gets the 1/7 figures.
    asked = dt.datetime(2026, 6, 30, 17, 30, tzinfo=dt.UTC)
    text = _plain(render_entry(library.entry("bhyt.rates"), "vi", STATION, today=asked).text)
    assert "1.366.200 ₫" in text and "Áp dụng từ 01/07/2026" in text
    before = dt.datetime(2026, 6, 30, 16, 59, tzinfo=dt.UTC)  # 23:59 on 30/6 in Vietnam
    text = _plain(render_entry(library.entry("bhyt.rates"), "vi", STATION, today=before).text)
    assert "1.263.600 ₫" in text and "1.366.200" not in text


@pytest.mark.parametrize(("asked_utc", "first_member", "other"), [
    # 23:00 on 30/6/2026 in Vietnam: Decree 73/2024
    (dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC), "1.263.600 ₫", "1.366.200"),
    # 09:00 on 1/7/2026 in Vietnam: Decree 161/2026
    (dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC), "1.366.200 ₫", "xxx"),
])
async def test_a_resident_asking_in_the_chat_gets_the_figures_of_that_day(
        healthbot, clock, asked_utc: dt.datetime, first_member: str, other: str) -> None:  # noqa: ANN001
    from tests.transcript import Transcript

    clock.now = asked_utc
    chat = Transcript(healthbot)
    await chat.say("mua bảo hiểm y tế hộ gia đình bao nhiêu tiền")
    reply = chat.replies[0]
    assert reply.topic == "bhyt"
    text = _plain(chat.text)
    assert f"Người thứ 1: {first_member}/năm" in text and other not in text.split("Trước")[0]
    assert reply.source and ("161/2026" in reply.source) == (first_member == "1.366.200 ₫")
