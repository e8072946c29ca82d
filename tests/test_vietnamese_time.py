"""Vietnamese date and time phrasings a nurse types in /phat, each read to the expected local time.

"Now" is Monday 23/11/2026 10:00 in Hanoi (the suite's fixed clock). Each row is what was typed
and the local "dd/mm/yyyy HH:MM" expected, or None where the text names no moment.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.i18n import TIMEZONE
from bot.vietnamese_time import parse_moment
from tests.conftest import TEST_START

PHRASES: list[tuple[str, str | None]] = [
    # the forms of the issue
    ("mai 8h", "24/11/2026 08:00"),
    ("thứ Hai 7h30", "30/11/2026 07:30"),
    ("1/12 8:00", "01/12/2026 08:00"),
    ("20h hôm nay", "23/11/2026 20:00"),
    ("sáng mai 8h", "24/11/2026 08:00"),
    ("thứ 6 tuần sau", "04/12/2026 08:00"),
    ("15/12", "15/12/2026 08:00"),
    ("cuối tháng", "30/11/2026 08:00"),
    # relative days
    ("mai", "24/11/2026 08:00"),
    ("ngày mai 14h", "24/11/2026 14:00"),
    ("ngay mai 9h", "24/11/2026 09:00"),
    ("ngày kia 7h", "25/11/2026 07:00"),
    ("mốt 16h30", "25/11/2026 16:30"),
    ("hôm nay 15h", "23/11/2026 15:00"),
    ("chiều nay 3h", "23/11/2026 15:00"),
    ("tối nay 7h", "23/11/2026 19:00"),
    ("tối nay", "23/11/2026 19:00"),
    ("sáng mai", "24/11/2026 08:00"),
    ("trưa mai", "24/11/2026 12:00"),
    ("chiều mai 2 giờ", "24/11/2026 14:00"),
    ("9h tối mai", "24/11/2026 21:00"),
    ("11h đêm nay", "23/11/2026 23:00"),
    # weekdays
    ("thứ 2", "30/11/2026 08:00"),
    ("thứ hai", "30/11/2026 08:00"),
    ("thu ba 9h", "24/11/2026 09:00"),
    ("thứ tư 7h", "25/11/2026 07:00"),
    ("thứ năm 13h30", "26/11/2026 13:30"),
    ("thứ sáu 8h", "27/11/2026 08:00"),
    ("thứ bảy 7h30", "28/11/2026 07:30"),
    ("chủ nhật 7h", "29/11/2026 07:00"),
    ("CN 8h", "29/11/2026 08:00"),
    ("T7 9h", "28/11/2026 09:00"),
    ("thứ 2 tuần sau 8h", "30/11/2026 08:00"),
    ("thứ sáu tuần sau 7h", "04/12/2026 07:00"),
    ("thứ 5 tuần tới", "03/12/2026 08:00"),
    ("thứ 4 tuần này 15h", "25/11/2026 15:00"),
    ("thứ hai 11h", "23/11/2026 11:00"),  # today, still ahead
    ("cuối tuần", "28/11/2026 08:00"),
    ("đầu tuần sau", "30/11/2026 08:00"),
    ("tuần sau", "30/11/2026 08:00"),
    # dates
    ("1/12", "01/12/2026 08:00"),
    ("01/12/2026 08:00", "01/12/2026 08:00"),
    ("15-12 9h", "15/12/2026 09:00"),
    ("5.12 14h", "05/12/2026 14:00"),
    ("ngày 15/12 lúc 8 giờ", "15/12/2026 08:00"),
    ("ngày 20 tháng 12", "20/12/2026 08:00"),
    ("ngày 2 tháng 1 năm 2027 7h", "02/01/2027 07:00"),
    ("1/1", "01/01/2027 08:00"),  # already passed this year: next year
    ("10/11", "10/11/2027 08:00"),
    ("31/12/26 20h", "31/12/2026 20:00"),
    ("đầu tháng sau", "01/12/2026 08:00"),
    ("cuối tháng 9h", "30/11/2026 09:00"),
    # times
    ("20h", "23/11/2026 20:00"),
    ("8h", "24/11/2026 08:00"),  # 08:00 has passed today: tomorrow
    ("14:30", "23/11/2026 14:30"),
    ("9 giờ rưỡi tối", "23/11/2026 21:30"),
    ("8h rưỡi sáng mai", "24/11/2026 08:30"),
    ("10 giờ 15 phút mai", "24/11/2026 10:15"),
    ("9 giờ kém 15 sáng mai", "24/11/2026 08:45"),
    ("lúc 7g30 sáng thứ 7", "28/11/2026 07:30"),
    ("12h trưa mai", "24/11/2026 12:00"),
    ("1h chiều thứ 3", "24/11/2026 13:00"),
    ("Mai 8H", "24/11/2026 08:00"),
    ("sang mai 7h30", "24/11/2026 07:30"),
    # not a moment
    ("", None),
    ("xin chào", None),
    ("31/2", None),
    ("25h", None),
    ("mai 8h 99", None),
]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=TIMEZONE)


@pytest.mark.parametrize(("typed", "expected"), PHRASES, ids=[p for p, _ in PHRASES])
def test_phrase_is_read_as_the_expected_local_time(typed: str, expected: str | None) -> None:
    moment = parse_moment(typed, TEST_START)
    if expected is None:
        assert moment is None
    else:
        assert moment is not None, typed
        assert moment.local() == local(expected)


def test_the_table_has_at_least_forty_phrasings() -> None:
    assert len([p for p, e in PHRASES if e is not None]) >= 40


def test_whether_a_time_was_typed_is_known() -> None:
    assert parse_moment("mai 8h", TEST_START).time_given  # type: ignore[union-attr]
    assert not parse_moment("cuối tháng", TEST_START).time_given  # type: ignore[union-attr]
