"""The plan holds a yearly check-up schedule per area (issue 20): `healthbot plan show` lists it and
the staff get a reminder to create the area's session, never the residents."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scheduler.plan import check_plan, load_plan
from scheduler.plan_cli import main_show
from tests.test_plan_ward import LIBRARY_IDS, db, staff_reminders_on

__all__ = ["db"]  # the database fixture
CHECKUP = """version: 1
campaigns:
  - id: checkup-tdp1
    topic: staff
    serves: "Khám sức khỏe định kỳ miễn phí"
    window: {yearly: {start: "01-03", end: "15-03"}}
    rhythm: {once: {time: "08:00"}}
    audience: {staff: true}
    messages: ["staff:checkup:TDP1"]
"""


def plan_file(tmp_path: Path, body: str = CHECKUP) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_schedule_checks_and_plan_show_lists_it(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_file(tmp_path)
    assert check_plan(path, LIBRARY_IDS) == []
    bad = plan_file(tmp_path, CHECKUP.replace("staff:checkup:TDP1", "staff:checkup:TDP 1!"))
    (problem,) = check_plan(bad, LIBRARY_IDS)
    assert "staff:checkup:TDP 1!" in problem and "staff:checkup:<area code>" in problem
    path = plan_file(tmp_path)
    assert main_show(["--path", str(path), "--from", "2027-01-01", "--to", "2027-12-31",
                      "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["campaign"], item["message"], item["serves"]) == (
        "checkup-tdp1", "staff:checkup:TDP1", "Khám sức khỏe định kỳ miễn phí")
    assert item["at"].startswith("2027-03-01T08:00")
    assert main_show(["--path", str(path), "--from", "2027-03-01", "--to", "2027-03-31"]) == 0
    assert "checkup-tdp1" in capsys.readouterr().out
    # The shipped example schedule (drafts until a station sets its own dates) is valid.
    shipped = load_plan(include_drafts=True)
    assert {"checkup-tdp1", "checkup-tdp2", "checkup-tdp3"} <= {c.id for c in shipped.campaigns}


async def test_staff_are_reminded_to_create_the_session(db, settings, clock,  # noqa: ANN001
                                                        tmp_path: Path) -> None:
    rows = await staff_reminders_on(db, settings, clock, plan_file(tmp_path), date(2027, 3, 1))
    assert [(r.chat_id, r.campaign_id) for r in rows] == [("-9001", "checkup-tdp1")]
    text = rows[0].payload["text"]
    assert "buổi khám sức khoẻ định kỳ miễn phí cho Tổ dân phố 1 vào ngày 15/03/2027" in text
    assert "(còn 14 ngày)" in text
    assert "/taokham 15/03/2027 07:30-11:00; địa điểm; TDP1; số chỗ mỗi 30 phút" in text
