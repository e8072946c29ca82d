"""Check-up coverage counts distinct people, not visits (issue 20: "100 % of the residents examined
at least once a year"): a person examined twice counts once, family members booked from one
account count apart, an erased resident still counts once; the chat, the CLI and the report show
the people and, apart, the visits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.app import build_bot, build_services
from bot.cli import main
from bot.config import Area, Settings, StaffMember
from bot.i18n import TIMEZONE
from bot.model import TELEGRAM
from bot.report.figures import compute, parse_period
from bot.report.files import make_report
from storage import checkups
from storage.erasure import erase_person
from storage.models import Person
from tests.conftest import FakeClock
from tests.test_report_files import all_text
from tests.transcript import Transcript

# Station 1 in 2026, sessions S1 (10/03) and S2 (10/10), ages reached in 2026:
#   A  account 1 "Nguyễn Văn An" 1950 (76): came to S1 in TDP1, came to S2 typed "nguyen  van AN"
#      in TDP2 -> one person, elderly, in TDP2 (latest visit); 2 visits.
#   B  account 1, for a family member "Nguyễn Thị Bình" 2015 (11): came to S1, TDP1 -> a child.
#   C  account 2 "Phạm Văn Cường" 1980 (46): came to S1 in TDP1, booked S2 in TDP2 and did not
#      come -> one person, adult, in TDP1 (the latest visit, not the latest booking); 1 visit.
#   D  account 3 "Đỗ Thị Dung" 1990 (36): booked S1 and S2 in TDP2, never came -> booked once.
#   E  account 4 "Trần Văn Em" 1940: came to S1 in TDP1, then erased (name, birth year and
#      account cleared) -> still one person examined, birth year not known; 1 visit.
#   F  an account gone without the erasure rule (person_id NULL, name kept) "Lê Thị Phúc" 1960
#      (66): came to S1 and S2 in TDP2 -> one person (name + birth year + area), elderly; 2 visits.
# People booked / examined: TDP1 B C E (3, 3); TDP2 A D F (3, 2); total (6, 5); visits 7 (the old
# count of bookings marked as come would have said 7 examined).
EXPECTED_AREAS = {"TDP1": (3, 3), "TDP2": (3, 2)}
EXPECTED_GROUPS = {"elderly": (2, 2), "adult": (2, 1), "child": (1, 1), "unknown": (1, 1)}
# Populations: TDP1 40 (elderly 8, children 12), TDP2 24 (elderly 3, children 5):
#   TDP1 3/40 = 7,5 %; TDP2 2/24 = 8,3 %; total 5/64 = 7,8 %;
#   elderly 2/11 = 18,2 %; children 1/17 = 5,9 %; 16-59 1/(64-11-17=36) = 2,8 %.
AREAS = [Area("TDP1", "Tổ dân phố 1", 40, 8, 12), Area("TDP2", "Tổ dân phố 2", 24, 3, 5)]


def at(m: int, d: int, hh: int = 7) -> datetime:
    return datetime(2026, m, d, hh, 30, tzinfo=TIMEZONE).astimezone(UTC)


async def seed(session) -> None:  # noqa: ANN001
    accounts = [Person() for _ in range(5)]
    session.add_all(accounts)
    await session.flush()
    one, two, three, four, five = (p.id for p in accounts)
    slots = []
    for when in (at(3, 10), at(10, 10)):
        row = await checkups.create_session(session, starts_at=when, ends_at=at(
            when.month, 10, 9), place="Trạm", areas=[], per_slot=10)
        slots.append((await checkups.slots(session, row.id))[0].id)
    s1, s2 = slots

    async def book(slot: int, person: int, name: str, year: int, area: str, came: bool):  # noqa: ANN202
        row = await checkups.book(session, slot_id=slot, person_id=person, full_name=name,
                                  birth_year=year, phone="0912345678", area_code=area)
        assert row is not None
        if came:
            await checkups.mark_attended(session, row.id, at(11, 1))
        return row

    await book(s1, one, "Nguyễn Văn An", 1950, "TDP1", True)
    await book(s2, one, "nguyen  van AN ", 1950, "TDP2", True)
    await book(s1, one, "Nguyễn Thị Bình", 2015, "TDP1", True)
    await book(s1, two, "Phạm Văn Cường", 1980, "TDP1", True)
    await book(s2, two, "Phạm Văn Cường", 1980, "TDP2", False)
    await book(s1, three, "Đỗ Thị Dung", 1990, "TDP2", False)
    await book(s2, three, "Đỗ Thị Dung", 1990, "TDP2", False)
    await book(s1, four, "Trần Văn Em", 1940, "TDP1", True)
    for slot in (s1, s2):
        gone = await book(slot, five, "Lê Thị Phúc", 1960, "TDP2", True)
        gone.person_id = None
    await session.flush()
    await erase_person(session, four)


@pytest.fixture
async def bot(settings: Settings):  # noqa: ANN201
    staffed = replace(settings, areas=AREAS,
                      staff=[StaffMember("Y sĩ Lan", "staff", telegram_id="55")])
    services = build_services(staffed, clock=FakeClock())
    async with services.db.sessions() as session, session.begin():
        await seed(session)
    yield build_bot(services)
    await services.db.close()


async def test_people_are_counted_once_visits_apart(bot) -> None:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        cov = await checkups.coverage_of(session, at(1, 1, 0), at(12, 31, 23))
        figures = await compute(session, parse_period("2026"), station_id=1)
    assert cov.by_area == EXPECTED_AREAS and cov.by_group == EXPECTED_GROUPS
    assert (cov.booked, cov.came, cov.visits, cov.sessions_held) == (6, 5, 7, 2)
    assert figures.checkups == cov

    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/dskham baophu 2026")
    lines = staff.text.splitlines()
    assert "  Tổ dân phố 1: 3 người đặt, 3 người đã đến · 7,5 % số dân (40 người)" in lines
    assert "  Tổ dân phố 2: 3 người đặt, 2 người đã đến · 8,3 % số dân (24 người)" in lines
    assert "Tổng cộng: 5 người đã khám · 7,8 % số dân (64 người)" in lines
    assert ("  Người cao tuổi (từ 60 tuổi): 2 người đặt, 2 người đã đến · 18,2 % số dân (11 người)"
            in lines)
    assert "  Trẻ em (dưới 16 tuổi): 1 người đặt, 1 người đã đến · 5,9 % số dân (17 người)" in lines
    assert "  Từ 16 đến 59 tuổi: 2 người đặt, 1 người đã đến · 2,8 % số dân (36 người)" in lines
    assert "  Không rõ năm sinh: 1 người đặt, 1 người đã đến" in lines  # the erased resident
    assert "Số buổi khám đã tổ chức: 2" in lines
    assert ("Số lượt khám: 7 (một người khám hai lần là hai lượt; số người ở trên chỉ tính một "
            "lần)") in lines


def test_cli_shows_people_and_visits(bot, settings: Settings, tmp_path: Path,  # noqa: ANN001
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "healthbot.toml"
    areas = "".join(f'[[areas]]\ncode = "{a.code}"\nname = "{a.name}"\npopulation = '
                    f"{a.population}\npopulation_elderly = {a.population_elderly}\n"
                    f"population_children = {a.population_children}\n" for a in AREAS)
    config.write_text(f'{areas}[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    assert main(["checkups", "coverage", "--config", str(config), "--year", "2026",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["sessions_held"], out["visits"]) == (2, 7)
    assert out["total"] == {"booked": 6, "came": 5, "population": 64, "share_percent": 7.8,
                            "over_population": False}
    assert {a: (v["booked"], v["came"], v["share_percent"]) for a, v in out["areas"].items()} == {
        "TDP1": (3, 3, 7.5), "TDP2": (3, 2, 8.3)}
    assert {g: (v["booked"], v["came"]) for g, v in out["groups"].items()} == EXPECTED_GROUPS
    assert out["groups"]["elderly"]["share_percent"] == 18.2
    assert main(["checkups", "coverage", "--config", str(config), "--year", "2026"]) == 0
    text = capsys.readouterr().out
    assert "Tổng cộng: 5 người đã khám · 7,8 % số dân (64 người)" in text
    assert "Số lượt khám: 7" in text


async def test_report_shows_people_and_visits(bot, tmp_path: Path) -> None:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        files = await make_report(session, bot.services.settings, parse_period("2026"),
                                  tmp_path, formats=("xlsx", "docx"), station_id=1,
                                  issued_on=date(2027, 1, 5))
    xlsx = next(p for p in files.paths if p.suffix == ".xlsx")
    rows = [[c.value for c in row] for row in
            load_workbook(xlsx)["Khám sức khỏe, hài lòng"].iter_rows()]
    by_name = {r[0]: r for r in rows}
    assert by_name["Số người đăng ký"][1] == 6
    assert by_name["Số người đã khám"][1:3] == [5, pytest.approx(5 / 6)]
    assert by_name["Số lượt khám"][1] == 7
    assert by_name["Tỷ lệ người dân được khám"][1:3] == [5, pytest.approx(5 / 64)]
    assert by_name["Tổ dân phố 1"][1:5] == [3, 3, 40, pytest.approx(3 / 40)]
    assert by_name["Tổ dân phố 2"][1:5] == [3, 2, 24, pytest.approx(2 / 24)]
    assert by_name["Người cao tuổi (từ 60 tuổi)"][1:5] == [2, 2, 11, pytest.approx(2 / 11)]
    text = all_text(Document(str(next(p for p in files.paths if p.suffix == ".docx"))))
    assert "Một người khám hai lần trong kỳ chỉ được đếm một lần." in text  # the annex
    assert "một người khám hai lần trong kỳ là hai lượt" in text


def key(**fields: object) -> tuple[object, ...]:
    row = {"id": 1, "station_id": 1, "person_id": 7, "full_name": "Nguyễn Văn An",
           "birth_year": 1950, "area_code": "TDP1", **fields}
    return checkups.person_key(SimpleNamespace(**row))


def test_person_key() -> None:
    # The same account, the name typed another way: one person.
    assert key() == key(full_name="  nguyen van  AN", id=2, area_code="TDP2")
    # One account, a family member (another name or another birth year): two people.
    assert key() != key(full_name="Nguyễn Thị Bình")
    assert key() != key(birth_year=1952)
    # Namesakes from two accounts: two people.
    assert key() != key(person_id=8)
    # No account: the name, birth year and area within the station.
    assert key(person_id=None, id=1) == key(person_id=None, id=2, full_name="Nguyen Van An")
    assert key(person_id=None) != key(person_id=None, area_code="TDP2")
    assert key(person_id=None) != key(person_id=None, station_id=2)
    # Nothing left (erased): each booking on its own.
    erased = {"person_id": None, "full_name": None, "birth_year": None}
    assert key(**erased, id=1) != key(**erased, id=2)
