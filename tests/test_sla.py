"""Deadlines count working hours on the station's calendar, skipping weekends and public holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.feedback.sla import WorkingCalendar, deadlines_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = load_settings(None, env={})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.mark.parametrize(
    ("filed", "accept", "urgent_accept", "resolve"),
    [
        # Friday 28/8/2026 16:30; Mon 31/8 (substitute day off), 1/9 and 2/9 (Quốc khánh) are
        # holidays: half an hour on Friday, the rest from Thursday 3/9.
        (local(2026, 8, 28, 16, 30), local(2026, 9, 3, 16, 30), local(2026, 9, 3, 10, 30),
         local(2026, 9, 9, 16, 30)),
        # Friday 24/4/2026: Mon 27/4 (Giỗ Tổ observed) off, Tue–Wed work, 30/4–1/5 off.
        (local(2026, 4, 24, 16, 30), local(2026, 4, 28, 16, 30), local(2026, 4, 28, 10, 30),
         local(2026, 5, 6, 16, 30)),
        # Friday 13/2/2026 before Tết: 16–20/2 are holidays, work resumes Monday 23/2.
        (local(2026, 2, 13, 16, 30), local(2026, 2, 23, 16, 30), local(2026, 2, 23, 10, 30),
         local(2026, 2, 27, 16, 30)),
    ],
)  # fmt: skip
def test_friday_afternoon_before_a_public_holiday(
    filed: datetime, accept: datetime, urgent_accept: datetime, resolve: datetime
) -> None:
    normal = deadlines_for(SETTINGS, "normal", filed)
    assert normal.accept_due == accept
    assert normal.resolve_due == resolve
    assert deadlines_for(SETTINGS, "urgent", filed).accept_due == urgent_accept


def test_a_ticket_filed_at_night_starts_counting_next_morning() -> None:
    due = deadlines_for(SETTINGS, "urgent", local(2026, 10, 6, 22, 0))  # Tuesday night
    assert due.accept_due == local(2026, 10, 7, 11, 0)  # 4 h from 07:00 Wednesday


def test_lunch_break_is_not_working_time() -> None:
    cal = WorkingCalendar.from_settings(SETTINGS)
    assert cal.add_working_hours(local(2026, 10, 6, 11, 0), 1) == local(2026, 10, 6, 14, 0)
    left = cal.working_time_between(local(2026, 10, 6, 11, 0), local(2026, 10, 6, 14, 0))
    assert left.total_seconds() == 3600


def test_saturday_mornings_when_the_station_works_them() -> None:
    feedback = replace(
        SETTINGS.feedback,
        working_days=["mon", "tue", "wed", "thu", "fri", "sat"],
        working_hours=["07:00-11:30", "13:30-17:00"],
    )
    settings = replace(SETTINGS, feedback=feedback)
    due = deadlines_for(settings, "normal", local(2026, 10, 9, 16, 30))  # Friday
    assert due.accept_due == local(2026, 10, 10, 16, 30)  # Saturday counts as a working day


def test_overdue_time_is_negative() -> None:
    cal = WorkingCalendar.from_settings(SETTINGS)
    late = cal.working_time_between(local(2026, 10, 7, 9, 0), local(2026, 10, 7, 8, 0))
    assert late.total_seconds() == -3600
