"""Check-up coverage as a share of the residents (issue 20): the station's population figures
per area and group, hand-computed shares in the chat, the CLI (text and JSON) and the report
files; "chưa có số dân" where a figure is missing; over 100 % shown with a warning."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.app import build_bot, build_services
from bot.cli import main
from bot.config import Area, ConfigError, Settings, StaffMember, load_settings
from bot.model import TELEGRAM
from bot.report.figures import parse_period
from bot.report.files import make_report
from tests.conftest import FakeClock
from tests.test_checkups_coverage import seed
from tests.test_report_files import all_text
from tests.transcript import Transcript

# The seed (tests/test_checkups_coverage.py), station 1 in 2026, people examined (came):
#   TDP1 2, TDP2 1, no area 0 -> 3 in total; elderly 1, 16-59 1, children 1, birth year unknown 0.
# Populations A (every figure entered):
#   TDP1 40 (elderly 8, children 12)   2/40 = 5,0 %
#   TDP2 24 (elderly 3, children 4)    1/24 = 4,2 %
#   TDP3 56 (elderly 9, children 9)    0/56 = 0,0 %
#   total 120                          3/120 = 2,5 %
#   elderly 8+3+9 = 20                 1/20 = 5,0 %
#   children 12+4+9 = 25               1/25 = 4,0 %
#   16-59: 120-20-25 = 75              1/75 = 1,3 %
FULL = [Area("TDP1", "Tổ dân phố 1", 40, 8, 12), Area("TDP2", "Tổ dân phố 2", 24, 3, 4),
        Area("TDP3", "Tổ dân phố 3", 56, 9, 9)]
# Populations B: TDP1 says 1 resident (2 examined: 200,0 % and a warning), TDP2 and TDP3 none
# entered (so no total and no group share either).
PARTIAL = [Area("TDP1", "Tổ dân phố 1", 1), Area("TDP2", "Tổ dân phố 2"),
           Area("TDP3", "Tổ dân phố 3")]
OVER = "số người đã khám vượt số dân đã nhập, xin kiểm tra lại số dân"


async def _bot(settings: Settings, areas: list[Area]):  # noqa: ANN202
    staffed = replace(settings, areas=areas,
                      staff=[StaffMember("Y sĩ Lan", "staff", telegram_id="55")])
    services = build_services(staffed, clock=FakeClock())
    async with services.db.sessions() as session, session.begin():
        await seed(session)
    return build_bot(services)


@pytest.fixture
async def full(settings: Settings):  # noqa: ANN201
    bot = await _bot(settings, FULL)
    yield bot
    await bot.services.db.close()


@pytest.fixture
async def partial(settings: Settings):  # noqa: ANN201
    bot = await _bot(settings, PARTIAL)
    yield bot
    await bot.services.db.close()


async def test_chat_shows_hand_computed_shares_and_the_target(full) -> None:  # noqa: ANN001
    staff = Transcript(full, TELEGRAM, "telegram", "55")
    await staff.say("/dskham baophu 2026")
    lines = staff.text.splitlines()
    assert "Mục tiêu: 100 % người dân được khám sức khỏe ít nhất 01 lần/năm" in lines
    assert "  Tổ dân phố 1: 3 người đặt, 2 người đã đến · 5,0 % số dân (40 người)" in lines
    assert "  Tổ dân phố 2: 1 người đặt, 1 người đã đến · 4,2 % số dân (24 người)" in lines
    assert "  Tổ dân phố 3: 0 người đặt, 0 người đã đến · 0,0 % số dân (56 người)" in lines
    assert "  chưa rõ khu vực: 1 người đặt, 0 người đã đến" in lines  # no population to compare
    assert "Tổng cộng: 3 người đã khám · 2,5 % số dân (120 người)" in lines
    assert ("  Người cao tuổi (từ 60 tuổi): 2 người đặt, 1 người đã đến · 5,0 % số dân (20 người)"
            in lines)
    assert "  Từ 16 đến 59 tuổi: 1 người đặt, 1 người đã đến · 1,3 % số dân (75 người)" in lines
    assert "  Trẻ em (dưới 16 tuổi): 1 người đặt, 1 người đã đến · 4,0 % số dân (25 người)" in lines
    assert "  Không rõ năm sinh: 1 người đặt, 0 người đã đến" in lines
    assert OVER not in staff.text


async def test_chat_says_no_population_and_warns_over_100(partial) -> None:  # noqa: ANN001
    staff = Transcript(partial, TELEGRAM, "telegram", "55")
    await staff.say("/dskham baophu 2026")
    lines = staff.text.splitlines()
    assert (f"  Tổ dân phố 1: 3 người đặt, 2 người đã đến · 200,0 % số dân (1 người) ⚠ {OVER}"
            in lines)  # not capped at 100 %
    assert "  Tổ dân phố 2: 1 người đặt, 1 người đã đến · chưa có số dân" in lines
    assert "  Tổ dân phố 3: 0 người đặt, 0 người đã đến · chưa có số dân" in lines
    assert "Tổng cộng: 3 người đã khám · chưa có số dân" in lines
    assert "  Người cao tuổi (từ 60 tuổi): 2 người đặt, 1 người đã đến · chưa có số dân" in lines


def _config(settings: Settings, tmp_path: Path, areas: list[Area]) -> str:
    config = tmp_path / "healthbot.toml"
    tables = "".join(f'[[areas]]\ncode = "{a.code}"\nname = "{a.name}"\n'
                     + (f"population = {a.population}\n" if a.population else "")
                     + (f"population_elderly = {a.population_elderly}\n"
                        if a.population_elderly else "")
                     + (f"population_children = {a.population_children}\n"
                        if a.population_children else "") for a in areas)
    config.write_text(f'{tables}[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    return str(config)


def test_cli_json_keys_and_shares(full, settings: Settings, tmp_path: Path,  # noqa: ANN001
                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(settings, tmp_path, FULL)
    assert main(["checkups", "coverage", "--config", config, "--year", "2026", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["target_percent"] == 100.0
    assert out["total"] == {"booked": 5, "came": 3, "population": 120, "share_percent": 2.5,
                            "over_population": False}
    assert out["areas"]["TDP1"] == {"booked": 3, "came": 2, "population": 40,
                                    "share_percent": 5.0, "over_population": False}
    assert {a: (v["population"], v["share_percent"]) for a, v in out["areas"].items()} == {
        "-": (None, None), "TDP1": (40, 5.0), "TDP2": (24, 4.2), "TDP3": (56, 0.0)}
    assert {g: (v["population"], v["share_percent"]) for g, v in out["groups"].items()} == {
        "elderly": (20, 5.0), "adult": (75, 1.3), "child": (25, 4.0), "unknown": (None, None)}
    assert main(["checkups", "coverage", "--config", config, "--year", "2026"]) == 0
    assert "Tổng cộng: 3 người đã khám · 2,5 % số dân (120 người)" in capsys.readouterr().out


def test_cli_json_without_population_and_over(partial, settings: Settings,  # noqa: ANN001
                                              tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(settings, tmp_path, PARTIAL)
    assert main(["checkups", "coverage", "--config", config, "--year", "2026", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["areas"]["TDP1"] == {"booked": 3, "came": 2, "population": 1,
                                    "share_percent": 200.0, "over_population": True}
    assert out["areas"]["TDP2"]["population"] is None
    assert out["areas"]["TDP2"]["share_percent"] is None
    assert out["total"]["share_percent"] is None
    assert out["groups"]["elderly"]["share_percent"] is None


async def _files(bot, tmp_path: Path) -> tuple[list[list[object]], str]:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        files = await make_report(session, bot.services.settings, parse_period("2026-H2"),
                                  tmp_path, formats=("xlsx", "docx"), station_id=1,
                                  issued_on=date(2027, 1, 5))
    xlsx = next(p for p in files.paths if p.suffix == ".xlsx")
    sheet = load_workbook(xlsx)["Khám sức khỏe, hài lòng"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    docx = next(p for p in files.paths if p.suffix == ".docx")
    return rows, all_text(Document(str(docx)))


async def test_report_files_show_shares_and_target(full, tmp_path: Path) -> None:  # noqa: ANN001
    rows, text = await _files(full, tmp_path)
    assert ["Tổ dân phố 1", 3, 2, 40] == rows[[r[0] for r in rows].index("Tổ dân phố 1")][:4]
    by_name = {r[0]: r for r in rows}
    assert by_name["Tổ dân phố 1"][4] == pytest.approx(0.05)
    assert by_name["Tổ dân phố 2"][4] == pytest.approx(1 / 24)
    assert by_name["Người cao tuổi (từ 60 tuổi)"][3:5] == [20, pytest.approx(0.05)]
    assert by_name["Từ 16 đến 59 tuổi"][3:5] == [75, pytest.approx(1 / 75)]
    assert by_name["Tỷ lệ người dân được khám"][1:3] == [3, pytest.approx(0.025)]
    assert "Tỷ lệ người dân được khám" in text and "2,5 %" in text and "4,2 %" in text
    assert "100,0 %" in text  # the target row
    assert "2,5 % người dân đã được khám, chưa đạt mục tiêu 100,0 %." in text
    assert "Số người đã khám trong kỳ / số dân do trạm nhập cho từng khu vực" in text  # annex


async def test_report_files_without_population_and_over(partial,  # noqa: ANN001
                                                         tmp_path: Path) -> None:
    rows, text = await _files(partial, tmp_path)
    by_name = {r[0]: r for r in rows}
    assert by_name["Tổ dân phố 1"][1:6] == [3, 2, 1, pytest.approx(2.0), OVER]
    assert by_name["Tổ dân phố 2"][3:5] == [None, "chưa có số dân"]
    assert by_name["Tỷ lệ người dân được khám"][2] == "chưa có số dân"
    assert by_name["Người cao tuổi (từ 60 tuổi)"][4] == "chưa có số dân"
    assert "200,0 %" in text and "chưa có số dân" in text
    assert ("Số người đã khám vượt số dân đã nhập (Tổ dân phố 1): xin kiểm tra lại số dân."
            in text)


@pytest.mark.parametrize(("area", "expected"), [
    ("population = -5", "'areas[0].population' must be 0 (not entered) or more"),
    ("population_elderly = 10", "'areas[0].population' is needed when"),
    ("population = 10\npopulation_elderly = 6\npopulation_children = 5",
     "'areas[0].population_elderly' + 'population_children' (11) must not exceed"
     " 'population' (10)"),
    ('population = "1.250"', "'areas[0].population' must be a whole number, got a string"),
])
def test_population_figures_are_validated(tmp_path: Path, area: str, expected: str) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text(f'[[areas]]\ncode = "TDP1"\nname = "Tổ 1"\n{area}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_settings(config, env={})


def test_population_of_a_further_station_is_validated(tmp_path: Path) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text('[[stations]]\nid = 2\ncode = "B"\nname = "Trạm B"\n'
                      '[[stations.areas]]\ncode = "A1"\nname = "Thôn 1"\npopulation_children = 3\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("'stations[0].areas[0].population' is needed")):
        load_settings(config, env={})


async def test_console_report_page_province_scope_adds_every_station(settings: Settings) -> None:
    """The console's report page (and any province report): every station's areas. Station 2's
    TDPA has 10 residents (5 elderly, 2 children) and 1 elderly person examined (the seed):
    total (3 + 1) / (120 + 10) = 3,1 %; TDPA 1/10 = 10,0 %; elderly (1 + 1) / (20 + 5) = 8,0 %."""
    from bot.config import StationEntry
    from bot.console import report_data
    from bot.report.content import cell_text

    two = replace(settings, stations=[StationEntry(2, "B", "Trạm B", areas=[
        Area("TDPA", "Thôn A", 10, 5, 2)])])
    bot = await _bot(two, FULL)
    try:
        async with bot.services.db.sessions() as session:
            view = await report_data.report_view(
                session, bot.services.settings, parse_period("2026-H2"), station_id=None,
                locale="vi", library=None, plan=None)
    finally:
        await bot.services.db.close()
    group = next(g for g in view.content.groups if g.key == "checkups")
    cells = {row[0]: [cell_text(v, k, "vi") for v, k in zip(row, table.kinds, strict=True)]
             for table in group.tables for row in table.rows}
    assert cells["Tỷ lệ người dân được khám"][1:] == ["4", "3,1 %"]
    assert cells["TDPA"][1:5] == ["1", "1", "10", "10,0 %"]  # station 1's view names no TDPA
    assert cells["Người cao tuổi (từ 60 tuổi)"][1:5] == ["3", "2", "25", "8,0 %"]
