"""The whole ward plan on the calendar (issue 15): every campaign the ward plans ask for is sent at
a sensible time in each region, names the plan item it serves, and the report-deadline reminders
reach staff only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.library import load_library
from scheduler.lunar import lunar_to_solar
from scheduler.occurrences import VN_TZ
from scheduler.plan import check_plan, load_plan
from scheduler.plan_cli import main_show
from scheduler.planner import Planner
from storage import people
from storage.db import open_database
from storage.models import Outbox

LIBRARY = load_library()
LIBRARY_IDS = {e.id for e in LIBRARY.entries() if e.approved}
YEAR = ["--from", "2027-01-01", "--to", "2027-12-31", "--json"]
# campaign -> (first allowed day, last allowed day) in 2027, for every region
EXPECTED_2027 = {
    "bhyt-students": (date(2027, 8, 1), date(2027, 9, 30)),
    "bhyt-digital-card": (date(2027, 6, 1), date(2027, 6, 30)),
    "hypertension-day": (date(2027, 5, 15), date(2027, 5, 17)),
    "free-health-check": (date(2027, 3, 10), date(2027, 4, 5)),
    "food-safety-hot-season": (date(2027, 6, 1), date(2027, 7, 31)),
    "food-safety-school-start": (date(2027, 8, 25), date(2027, 9, 15)),
    "vitamin-a-round-1": (date(2027, 5, 31), date(2027, 6, 1)),
    "vitamin-a-round-2": (date(2027, 11, 30), date(2027, 12, 1)),
    "no-tobacco-day": (date(2027, 5, 31), date(2027, 5, 31)),
    "no-tobacco-month": (date(2027, 5, 25), date(2027, 6, 24)),
    "drowning-summer": (date(2027, 5, 25), date(2027, 8, 31)),
    "elderly-day": (date(2027, 9, 30), date(2027, 10, 1)),
    "mental-health-day": (date(2027, 10, 9), date(2027, 10, 10)),
    "staff-report-6-months": (date(2027, 6, 3), date(2027, 6, 3)),
    "staff-report-yearly": (date(2027, 11, 3), date(2027, 11, 3)),
}


def _year_2027(region: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main_show([*YEAR, "--region", region]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("region", ["north", "central", "south"])
def test_every_ward_plan_campaign_is_on_the_2027_calendar(
        region: str, capsys: pytest.CaptureFixture[str]) -> None:
    items = _year_2027(region, capsys)
    days: dict[str, list[date]] = {}
    for item in items:
        days.setdefault(item["campaign"], []).append(datetime.fromisoformat(item["at"]).date())
    for campaign, (first, last) in EXPECTED_2027.items():
        assert campaign in days, (region, campaign)
        assert all(first <= d <= last for d in days[campaign]), (region, campaign, days[campaign])
    # the Tết food-safety window starts by the 23rd of the last lunar month at the latest
    tao_quan = lunar_to_solar(23, 12, 2026)  # 23 tháng Chạp before Tết 2027 (6/2/2027)
    assert min(days["food-safety-tet"]) <= tao_quan
    # every send names the ward plan item it serves
    assert all(item["serves"] for item in items)


def test_dengue_north_is_timed_for_the_northern_season(capsys: pytest.CaptureFixture[str]) -> None:
    items = _year_2027("north", capsys)
    months = {datetime.fromisoformat(i["at"]).month for i in items
              if i["campaign"].startswith("dengue-north")}
    assert months == set(range(5, 12))  # prevention from May; peak Aug–Nov (health-facts §3)
    peak = {datetime.fromisoformat(i["at"]).month for i in items
            if i["campaign"] == "dengue-north-peak"}
    assert {9, 10, 11} <= peak


def test_by_item_counts_sends_per_plan_item(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show(["--from", "2027-05-15", "--to", "2027-05-17", "--by-item"]) == 0
    out = capsys.readouterr().out
    assert "Phòng, chống tăng huyết áp: đo huyết áp tại trạm" in out
    line = next(ln for ln in out.splitlines() if "tăng huyết áp" in ln)
    assert "3 lần gửi" in line and "hypertension-day" in line


def test_the_shipped_plan_checks_against_the_library() -> None:
    assert check_plan(None, LIBRARY_IDS) == []
    plan = load_plan(include_drafts=True)
    assert all(c.serves for c in plan.campaigns)
    assert not load_plan().campaign("vitamin-a-round-2").draft


def _plan(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\ncampaigns:\n" + body, encoding="utf-8")
    return path


STAFF = """
  - id: staff-report
    topic: staff
    serves: "Báo cáo 6 tháng"
    window: {yearly: {start: "03-06", end: "10-06"}}
    rhythm: {once: {time: "08:00"}}
    audience: {staff: true}
    messages: ["staff:report-6-months"]
"""


@pytest.mark.parametrize(("change", "expected"), [
    (("audience: {staff: true}", "audience: {groups: all}"), "'audience"),
    (("audience: {staff: true}", "audience: {staff: true, groups: all}"), "staff: true alone"),
    (("topic: staff", "topic: dengue"), "must never reach residents"),
    (('messages: ["staff:report-6-months"]', "messages: [dengue.prevention]"),
     "must never reach residents"),
])
def test_a_staff_reminder_can_never_reach_residents(tmp_path: Path, change: tuple[str, str],
                                                    expected: str) -> None:
    problems = check_plan(_plan(tmp_path, STAFF.replace(*change)), LIBRARY_IDS)
    assert len(problems) == 1 and expected in problems[0], problems


def test_an_unknown_staff_message_is_reported(tmp_path: Path) -> None:
    path = _plan(tmp_path, STAFF.replace("staff:report-6-months", "staff:report-weekly"))
    (problem,) = check_plan(path, LIBRARY_IDS)
    assert "staff:report-weekly" in problem and "staff:report-yearly" in problem


@pytest.fixture
async def db(db_url: str):  # noqa: ANN201
    database = open_database(db_url)
    yield database
    await database.close()


async def staff_reminders_on(db, settings, clock, plan_path: Path,  # noqa: ANN001
                             day: date) -> list[Outbox]:
    """Run the planner through 08:00 Vietnam time on `day` with a staff chat and a residents'
    group; the outbox rows it queued (the staff reminders, never for the group)."""
    settings = replace(settings, feedback=replace(settings.feedback, staff_chat="telegram:-9001"))
    async with db.sessions() as session, session.begin():
        await people.ensure_chat(session, "telegram", "-1001", "group", None)  # residents
    plan = load_plan(plan_path)
    clock.now = datetime(day.year, day.month, day.day, tzinfo=VN_TZ).astimezone(UTC)  # 00:00
    planner = Planner(db, settings, LIBRARY, plan, clock)
    try:
        await planner.fire_due()  # first start sets the mark
        clock.now += timedelta(hours=8)  # 08:00 Vietnam time
        report = await planner.fire_due()
    finally:
        await planner.stop()
    assert len(report.fired) == 1
    async with db.sessions() as session:
        return list((await session.execute(select(Outbox))).scalars().all())


async def test_report_reminder_goes_to_the_staff_chat_a_week_before(
        db, settings, clock, tmp_path: Path) -> None:  # noqa: ANN001
    rows = await staff_reminders_on(db, settings, clock, _plan(tmp_path, STAFF), date(2027, 6, 3))
    assert [(r.chat_id, r.campaign_id) for r in rows] == [("-9001", "staff-report")]
    text = rows[0].payload["text"]
    assert "hạn nộp báo cáo 6 tháng là ngày 10/06/2027 (còn 7 ngày)" in text
    assert "Gõ /baocao 2027-H1 để nhận tệp báo cáo" in text  # the report itself (issue 17)
    assert rows[0].not_before.astimezone(VN_TZ).strftime("%d/%m %H:%M") == "03/06 08:00"


def test_without_a_staff_chat_the_reminder_goes_to_staff_members(settings) -> None:  # noqa: ANN001
    from bot.config import StaffMember
    from scheduler.broadcasts import staff_recipients

    settings = replace(settings, staff=[StaffMember("Lan", telegram_id="111"),
                                        StaffMember("Minh", zalo_bot_id="z-222")])
    got = {(r.channel, r.chat_id, r.chat_kind) for r in staff_recipients(settings)}
    assert got == {("telegram", "111", "private"), ("zalo_bot", "z-222", "private")}
