"""``healthbot plan show`` / ``plan check`` as staff use them: table, JSON, iCalendar, errors."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from scheduler.plan_cli import main_check, main_show


def test_show_json_lists_tet_food_safety_with_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show(["--from", "2026-02-01", "--to", "2026-02-21", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    tet = [i for i in items if i["campaign"] == "food-safety-tet"]
    assert tet[0]["at"] == "2026-02-02T09:00:00+07:00"
    assert tet[0]["message"] == "food-safety.tet"
    assert tet[0]["audience"]["groups"] == "all"
    for item in items:
        assert {"campaign", "at", "topic", "audience", "message", "dedupe_key"} <= item.keys()
        assert datetime.fromisoformat(item["at"]).utcoffset().total_seconds() == 7 * 3600


def test_show_table_uses_vietnamese_dates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show(["--from", "07/04/2026", "--to", "07/04/2026"]) == 0
    out = capsys.readouterr().out
    assert "07/04/2026 07:30" in out and "health-check.day-7-4" in out


def test_show_region_changes_campaigns(capsys: pytest.CaptureFixture[str]) -> None:
    main_show(["--from", "2026-06-01", "--to", "2026-06-30", "--json", "--region", "south"])
    south = {i["campaign"] for i in json.loads(capsys.readouterr().out)}
    main_show(["--from", "2026-06-01", "--to", "2026-06-30", "--json", "--region", "north"])
    north = {i["campaign"] for i in json.loads(capsys.readouterr().out)}
    assert "dengue-south-peak" in south and "dengue-south-peak" not in north
    assert "dengue-north-season" in north


def test_show_writes_ics_that_parses_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plan.ics"
    assert main_show(["--from", "2026-02-01", "--to", "2026-02-21", "--ics", str(target),
                      "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    calendar = Calendar.from_ical(target.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(items) > 0
    assert {str(e["UID"]) for e in events} == {i["dedupe_key"] for i in items}
    first = min(events, key=lambda e: e["DTSTART"].dt)
    assert first["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert first["DTSTART"].dt.isoformat() == items[0]["at"]
    assert list(calendar.walk("VTIMEZONE"))


def test_show_refuses_an_invalid_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaigns:\n  - id: x\n    topic: nope\n", encoding="utf-8")
    assert main_show(["--path", str(bad)]) == 2
    assert "'topic'" in capsys.readouterr().err


def test_check_reports_problems_and_passes_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_check(["--no-library"]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaigns:\n  - id: x\n    topic: nope\n", encoding="utf-8")
    assert main_check([str(bad), "--no-library"]) == 1
    out = capsys.readouterr().out
    assert str(bad) in out and "'topic'" in out and "'window'" in out


def test_check_finds_message_ids_missing_from_a_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "campaigns:\n  - id: x\n    topic: flu\n"
        "    window: {fixed: {start: 2026-01-05, end: 2026-01-09}}\n"
        "    rhythm: {daily: {time: \"08:00\"}}\n"
        "    messages: [flu.prevention, flu.not-written]\n",
        encoding="utf-8",
    )
    assert main_check([str(plan)], library_entry_ids={"flu.prevention"}) == 1
    out = capsys.readouterr().out
    assert "flu.not-written" in out and out.count("is not in the library") == 1
