"""Plan files: the shipped default plan, lunar-anchored windows, and clear validation errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from content.library import load_library
from scheduler.occurrences import campaign_windows
from scheduler.plan import DEFAULT_PLAN_DIR, PlanError, check_plan, load_plan

LIBRARY_IDS = {e.id for e in load_library().entries() if e.approved}

GOOD_CAMPAIGN = """
  - id: demo
    topic: dengue
    window: {yearly: {start: "01-05", end: "31-05"}}
    rhythm: {weekly: {days: [mon], time: "08:00"}}
    messages: [dengue.prevention]
"""


def write_plan(tmp_path: Path, campaigns: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text("campaigns:\n" + campaigns, encoding="utf-8")
    return path


def test_default_plan_is_valid_and_uses_only_library_ids() -> None:
    assert check_plan(None, LIBRARY_IDS) == []


def test_every_shipped_campaign_cites_its_source() -> None:
    plan = load_plan(region="north", include_drafts=True)
    assert all("health-facts" in c.note for c in plan.campaigns)


@pytest.mark.parametrize(
    ("year", "start", "end"),
    [
        (2026, date(2026, 2, 2), date(2026, 2, 21)),
        (2027, date(2027, 1, 22), date(2027, 2, 10)),
    ],
)
def test_tet_food_safety_window(year: int, start: date, end: date) -> None:
    campaign = load_plan().campaign("food-safety-tet")
    windows = campaign_windows(campaign, date(year, 1, 1), date(year, 12, 31))
    assert windows == [(start, end)]


def test_regions_pick_their_dengue_campaigns() -> None:
    north = {c.id for c in load_plan(region="north").campaigns}
    south = {c.id for c in load_plan(region="south").campaigns}
    assert "dengue-north-peak" in north and "dengue-south-peak" not in north
    assert "dengue-south-peak" in south and "dengue-north-peak" not in south
    assert "food-safety-tet" in north and "food-safety-tet" in south


def test_draft_campaign_is_left_out_unless_asked_for() -> None:
    # the alternative 15/12 report deadline is shipped as a draft
    assert "staff-report-yearly-15" not in {c.id for c in load_plan().campaigns}
    assert "staff-report-yearly-15" in {c.id for c in load_plan(include_drafts=True).campaigns}


def test_unknown_region_is_refused() -> None:
    with pytest.raises(PlanError, match="north, central, south"):
        load_plan(region="west")


def test_error_names_file_campaign_field_and_expectation(tmp_path: Path) -> None:
    path = write_plan(tmp_path, GOOD_CAMPAIGN.replace("days: [mon]", "days: [monday]"))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    (problem,) = caught.value.problems
    assert str(path) in problem
    assert "'demo'" in problem
    assert "'rhythm.weekly.days'" in problem
    assert "mon, tue" in problem and "monday" in problem


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("topic: dengue", "topic: malaria"), "'topic'"),
        (('start: "01-05"', 'start: "31-02"'), "'window.yearly.start'"),
        (('time: "08:00"', 'time: "8h"'), "'rhythm.weekly.time'"),
        (("messages: [dengue.prevention]", "messages: []"), "'messages'"),
        (("    topic: dengue", "    topic: dengue\n    colour: red"), "'colour'"),
        (("    topic: dengue", "    topic: dengue\n    regions: [west]"), "'regions'"),
        (("{weekly: {days: [mon], time: \"08:00\"}}", "{once: {day_offset: 40, time: \"08:00\"}}"),
         "'rhythm.once.day_offset'"),
        # an unknown rhythm or window kind is one clear problem, not a crash
        (("{weekly: {days: [mon], time: \"08:00\"}}", "{monthly: {time: \"08:00\"}}"),
         "'rhythm.monthly'"),
        (('{yearly: {start: "01-05", end: "31-05"}}', '{seasonal: {start: "01-05"}}'),
         "'window.seasonal'"),
    ],
)
def test_each_bad_field_is_reported(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    path = write_plan(tmp_path, GOOD_CAMPAIGN.replace(*change))
    problems = check_plan(path)
    assert len(problems) == 1 and field in problems[0], problems


def test_all_problems_are_collected_at_once(tmp_path: Path) -> None:
    bad = GOOD_CAMPAIGN.replace("topic: dengue", "topic: x").replace("[mon]", "[funday]")
    problems = check_plan(write_plan(tmp_path, bad + GOOD_CAMPAIGN))
    assert any("'topic'" in p for p in problems)
    assert any("'rhythm.weekly.days'" in p for p in problems)
    assert any("unique id" in p for p in problems)


def test_unknown_message_id_is_reported_when_library_given(tmp_path: Path) -> None:
    path = write_plan(tmp_path, GOOD_CAMPAIGN.replace("dengue.prevention", "dengue.typo"))
    assert check_plan(path) == []
    (problem,) = check_plan(path, LIBRARY_IDS)
    assert "dengue.typo" in problem and "'messages'" in problem


def test_lunar_window_needs_exactly_one_end(tmp_path: Path) -> None:
    lunar = GOOD_CAMPAIGN.replace(
        'window: {yearly: {start: "01-05", end: "31-05"}}',
        "window: {lunar: {anchor: tet, start_offset_days: -3}}",
    )
    (problem,) = check_plan(write_plan(tmp_path, lunar))
    assert "'window.lunar'" in problem and "end_offset_days" in problem


def test_unquoted_time_is_read_as_clock_time(tmp_path: Path) -> None:
    # YAML 1.1 turns an unquoted 10:30 into the integer 630; staff meant half past ten.
    path = write_plan(tmp_path, GOOD_CAMPAIGN.replace('"08:00"', "10:30"))
    assert load_plan(path).campaign("demo").rhythm.at.strftime("%H:%M") == "10:30"


def test_default_plan_dir_holds_yaml() -> None:
    assert any(DEFAULT_PLAN_DIR.glob("*.yaml"))
