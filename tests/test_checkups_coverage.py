"""Check-up coverage per area and per priority group over the year (issue 20), hand-counted, the
same in the staff chat (`/dskham baophu 2026`), the CLI and the periodic report's figures."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import build_bot, build_services
from bot.cli import main
from bot.config import Settings, StaffMember
from bot.i18n import TIMEZONE
from bot.model import TELEGRAM
from bot.report.figures import compute, parse_period
from bot.report.files import make_report
from storage import checkups
from storage.models import CheckupBooking, Person, SurveyResponse
from tests.conftest import FakeClock
from tests.transcript import Transcript

# Hand count for station 1 in 2026 (ages reached in 2026):
#   S1 28/11 TDP1: 1950 (76, elderly) came; 1966 (60, elderly) booked; 2012 (14, child) came;
#                  1967 (59, adult) cancelled -> not counted.
#   S2 05/12 all areas: TDP2 1967 (59, adult) came; no area, birth year erased (unknown) booked.
#   Not counted: a cancelled session (one booking), a 2025 session, station 2's session.
EXPECTED_AREAS = {"-": (1, 0), "TDP1": (3, 2), "TDP2": (1, 1)}
EXPECTED_GROUPS = {"elderly": (2, 1), "adult": (1, 1), "child": (1, 1), "unknown": (1, 0)}


def at(y: int, m: int, d: int, hh: int = 7, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TIMEZONE).astimezone(UTC)


async def seed(session) -> None:  # noqa: ANN001
    person = Person()
    session.add(person)
    await session.flush()
    n = iter(range(100))

    async def new(when: datetime, areas: list[str], station_id: int = 1) -> int:
        row = await checkups.create_session(session, starts_at=when, ends_at=when.replace(
            hour=when.hour + 2), place="Trạm", areas=areas, per_slot=10, station_id=station_id)
        return (await checkups.slots(session, row.id))[0].id

    async def booking(slot: int, year: int | None, area: str | None,
                      status: str = "booked") -> CheckupBooking:
        row = await checkups.book(session, slot_id=slot, person_id=person.id,
                                  full_name=f"Người {next(n)}", birth_year=year or 1980,
                                  phone="0912345678", area_code=area)
        assert row is not None
        row.birth_year = year  # None: erased
        if status == "attended":
            await checkups.mark_attended(session, row.id, at(2026, 11, 28, 9))
        elif status == "cancelled":
            await checkups.cancel(session, row)
        return row

    s1 = await new(at(2026, 11, 28), ["TDP1"])
    await booking(s1, 1950, "TDP1", "attended")
    await booking(s1, 1966, "TDP1")
    await booking(s1, 2012, "TDP1", "attended")
    await booking(s1, 1967, "TDP1", "cancelled")
    s2 = await new(at(2026, 12, 5), [])
    await booking(s2, 1967, "TDP2", "attended")
    await booking(s2, None, None)
    gone = await new(at(2026, 12, 12), [])
    await booking(gone, 1950, "TDP1")
    gone_row = await checkups.get_session(session, (await checkups.slot(session, gone)).session_id)
    gone_row.status = "cancelled"
    await booking(await new(at(2025, 12, 1), []), 1950, "TDP1", "attended")
    await booking(await new(at(2026, 12, 1), [], station_id=2), 1950, "TDPA", "attended")
    # Two completed surveys (5 answers each): 9 of 10 answers are 4 or 5 -> 90 %.
    session.add_all([
        SurveyResponse(trigger="checkup", answers={"A": 5, "B": 4, "C": 3, "D": 5, "E": 5},
                       created_at=at(2026, 11, 28, 10), completed_at=at(2026, 11, 28, 10)),
        SurveyResponse(trigger="request", answers={"A": 4, "B": 4, "C": 4, "D": 5, "E": 4},
                       created_at=at(2026, 12, 5, 10), completed_at=at(2026, 12, 5, 10)),
    ])


@pytest.fixture
async def bot(settings: Settings):  # noqa: ANN201
    staffed = replace(settings, staff=[StaffMember("Y sĩ Lan", "staff", telegram_id="55")])
    services = build_services(staffed, clock=FakeClock())
    async with services.db.sessions() as session, session.begin():
        await seed(session)
    yield build_bot(services)
    await services.db.close()


async def test_coverage_per_area_and_group_is_hand_counted(bot) -> None:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        cov = await checkups.coverage_of(session, at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0))
        figures = await compute(session, parse_period("2026-H2"), station_id=1)
    assert cov.sessions_held == 2
    assert cov.by_area == EXPECTED_AREAS and cov.by_group == EXPECTED_GROUPS
    assert (cov.booked, cov.came) == (5, 3)
    assert figures.checkups == cov
    assert (figures.survey.responses, figures.survey.satisfied, figures.survey.answers) == (2, 9, 10)
    assert figures.survey.rate == pytest.approx(0.9)

    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/dskham baophu 2026")
    text = staff.text
    assert "Khám sức khoẻ năm 2026" in text
    assert "Tổ dân phố 1: 3 người đặt, 2 người đã đến" in text
    assert "chưa rõ khu vực: 1 người đặt, 0 người đã đến" in text
    assert "Người cao tuổi (từ 60 tuổi): 2 người đặt, 1 người đã đến" in text
    assert "Trẻ em (dưới 16 tuổi): 1 người đặt, 1 người đã đến" in text
    assert "Không rõ năm sinh: 1 người đặt, 0 người đã đến" in text
    assert "Số buổi khám đã tổ chức: 2" in text
    await staff.say("/dskham")
    await staff.tap("Độ bao phủ năm nay")  # the fake clock's year is 2026
    assert "Từ 16 đến 59 tuổi: 1 người đặt, 1 người đã đến" in staff.text


def test_cli_coverage_per_area_and_group(bot, settings: Settings, tmp_path: Path,  # noqa: ANN001
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text(f'[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    assert main(["checkups", "coverage", "--config", str(config), "--year", "2026",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sessions_held"] == 2
    assert {a: (v["booked"], v["came"]) for a, v in out["areas"].items()} == {
        **EXPECTED_AREAS, "TDP3": (0, 0)}  # every configured area, none booked in TDP3
    assert {g: (v["booked"], v["came"]) for g, v in out["groups"].items()} == EXPECTED_GROUPS
    assert main(["checkups", "coverage", "--config", str(config), "--year", "2026"]) == 0
    assert "Người cao tuổi (từ 60 tuổi): 2 người đặt, 1 người đã đến" in capsys.readouterr().out


async def test_the_report_files_carry_coverage_and_survey(bot, settings: Settings,  # noqa: ANN001
                                                          tmp_path: Path) -> None:
    async with bot.services.db.sessions() as session:
        files = await make_report(session, settings, parse_period("2026-H2"), tmp_path,
                                  formats=("xlsx",), station_id=1, issued_on=date(2027, 1, 5))
    book = load_workbook(files.paths[0])
    sheet = book["Khám sức khỏe, hài lòng"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    flat = [v for row in values for v in row if v is not None]
    assert ["Số buổi khám đã tổ chức", 2] == [v for v in values if v[0] ==
                                             "Số buổi khám đã tổ chức"][0][:2]
    assert ["Tổ dân phố 1", 3, 2] in [v[:3] for v in values]
    assert ["Người cao tuổi (từ 60 tuổi)", 2, 1] in [v[:3] for v in values]
    assert ["Câu trả lời hài lòng (4–5)", 9] in [v[:2] for v in values]
    assert "Khám sức khỏe theo nhóm ưu tiên" in flat
