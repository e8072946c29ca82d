"""Occurrences: quiet hours, urgent campaigns, year-wrapping windows, message rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from scheduler.occurrences import (
    VN_TZ,
    QuietHours,
    campaign_windows,
    next_occurrences_after,
    occurrences,
)
from scheduler.plan import REGIONS, Plan, load_plan


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


def plan_from(tmp_path: Path, body: str) -> Plan:
    path = tmp_path / "plan.yaml"
    path.write_text("campaigns:\n" + body, encoding="utf-8")
    return load_plan(path)


LATE_EVENING = """
  - id: late
    topic: flu
    window: {{fixed: {{start: 2026-03-02, end: 2026-03-04}}}}
    rhythm: {{daily: {{time: "22:30"}}}}
    urgent: {urgent}
    messages: [flu.prevention]
"""


@pytest.mark.parametrize("region", REGIONS)
def test_default_plan_sends_nothing_ordinary_in_quiet_hours(region: str) -> None:
    quiet = QuietHours(time(21, 0), time(7, 0))
    found = occurrences(load_plan(region=region), vn(2026, 1, 1), vn(2028, 1, 1))
    assert len(found) > 100
    assert not [o for o in found if quiet.holds(o.at)]


def test_late_ordinary_occurrence_waits_until_seven(tmp_path: Path) -> None:
    found = occurrences(plan_from(tmp_path, LATE_EVENING.format(urgent="false")),
                        vn(2026, 3, 1), vn(2026, 3, 10))
    assert [o.at for o in found] == [vn(2026, 3, 3, 7), vn(2026, 3, 4, 7), vn(2026, 3, 5, 7)]
    # The key keeps the planned time, so changing quiet hours never creates a second send.
    assert found[0].dedupe_key == "campaign:late:2026-03-02T22:30"


def test_urgent_occurrence_passes_quiet_hours(tmp_path: Path) -> None:
    found = occurrences(plan_from(tmp_path, LATE_EVENING.format(urgent="true")),
                        vn(2026, 3, 1), vn(2026, 3, 10))
    assert [o.at for o in found] == [vn(2026, 3, d, 22, 30) for d in (2, 3, 4)]
    assert all(o.urgent for o in found)


def test_held_occurrence_from_the_evening_before_shows_in_range(tmp_path: Path) -> None:
    plan = plan_from(tmp_path, LATE_EVENING.format(urgent="false"))
    found = occurrences(plan, vn(2026, 3, 3), vn(2026, 3, 3, 12))
    assert [o.dedupe_key for o in found] == ["campaign:late:2026-03-02T22:30"]


def test_quiet_hours_with_utc_times() -> None:
    quiet = QuietHours()
    late = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 22:00 in Vietnam
    assert quiet.holds(late)
    assert quiet.release_time(late) == vn(2026, 3, 3, 7)
    early = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 06:30 next morning in Vietnam
    assert quiet.release_time(early) == vn(2026, 3, 3, 7)
    noon = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert not quiet.holds(noon) and quiet.release_time(noon) == noon
    assert not quiet.holds(vn(2026, 3, 2, 7, 0)) and quiet.holds(vn(2026, 3, 2, 21, 0))


def test_quiet_hours_disabled_and_naive_refused() -> None:
    assert not QuietHours(time(0, 0), time(0, 0)).holds(vn(2026, 3, 2, 23))
    with pytest.raises(ValueError):
        QuietHours().holds(datetime(2026, 3, 2, 23))


def test_yearly_window_wraps_the_year_end(tmp_path: Path) -> None:
    plan = plan_from(tmp_path, """
  - id: winter
    topic: measles
    window: {yearly: {start: "30-12", end: "02-01"}}
    rhythm: {daily: {time: "08:00"}}
    messages: [measles.prevention]
""")
    found = occurrences(plan, vn(2026, 1, 1), vn(2027, 1, 1))
    assert [o.at.date() for o in found] == [
        date(2026, 1, 1), date(2026, 1, 2), date(2026, 12, 30), date(2026, 12, 31)]
    windows = campaign_windows(plan.campaigns[0], date(2026, 1, 1), date(2026, 12, 31))
    assert windows == [
        (date(2025, 12, 30), date(2026, 1, 2)),
        (date(2026, 12, 30), date(2027, 1, 2)),
    ]


def test_rotation_counts_from_window_start_not_query_start(tmp_path: Path) -> None:
    plan = plan_from(tmp_path, """
  - id: rota
    topic: dengue
    window: {fixed: {start: 2026-06-01, end: 2026-06-30}}
    rhythm: {weekly: {days: [mon, thu], time: "08:00"}}
    messages: [dengue.prevention, dengue.warning-signs]
""")
    whole = occurrences(plan, vn(2026, 6, 1), vn(2026, 7, 1))
    assert [o.message_id for o in whole[:3]] == [
        "dengue.prevention", "dengue.warning-signs", "dengue.prevention"]
    later = occurrences(plan, vn(2026, 6, 4), vn(2026, 7, 1))
    assert [(o.dedupe_key, o.message_id) for o in later] == [
        (o.dedupe_key, o.message_id) for o in whole[1:]]


def test_once_on_a_day_of_a_lunar_window(tmp_path: Path) -> None:
    plan = plan_from(tmp_path, """
  - id: mid-autumn
    topic: food-safety
    window: {lunar: {anchor: {lunar_day: 15, lunar_month: 8}, start_offset_days: -7,
                     end_offset_days: 0}}
    rhythm: {once: {day_offset: 2, time: "09:00"}}
    messages: [food-safety.basics]
""")
    (only,) = occurrences(plan, vn(2026, 1, 1), vn(2027, 1, 1))
    assert only.at == vn(2026, 9, 20, 9)  # Trung thu 25/9/2026 minus 7 days, plus 2


def test_tet_food_safety_occurrences_2026_stay_in_window() -> None:
    found = [o for o in occurrences(load_plan(), vn(2026, 1, 1), vn(2026, 4, 1))
             if o.campaign_id == "food-safety-tet"]
    assert found[0].at.date() == date(2026, 2, 2)
    assert found[-1].at.date() <= date(2026, 2, 21)
    assert found[0].message_id == "food-safety.tet"


def test_times_carry_the_vietnam_offset_and_keys_are_unique() -> None:
    found = occurrences(load_plan(region="south"), vn(2026, 1, 1), vn(2027, 1, 1))
    assert all(o.at.utcoffset() == timedelta(hours=7) for o in found)
    assert len({o.dedupe_key for o in found}) == len(found)
    assert found == sorted(found, key=lambda o: o.at)


def test_next_occurrences_after() -> None:
    plan = load_plan(region="north")
    (first,) = next_occurrences_after(plan, vn(2026, 11, 22, 9))
    assert first.at == vn(2026, 11, 23, 8) and first.campaign_id == "dengue-north-peak"
    after = next_occurrences_after(plan, first.at)
    assert after and all(o.at > first.at for o in after)
