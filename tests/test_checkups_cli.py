"""`healthbot checkups`: the session list, the printable sign-in sheet (.xlsx), coverage per area."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import build_bot, build_services
from bot.cli import main
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM, WEB
from tests.conftest import FakeClock
from tests.transcript import Transcript


async def book(chat: Transcript, area: str, name: str, year: str, phone: str) -> None:
    await chat.say(f"/start {area}")
    await chat.say("/khamsuckhoe")
    await chat.tap(chat.buttons()[0].data)  # the session
    await chat.tap(chat.buttons()[0].data)  # the first free time
    await chat.tap("Tôi đồng ý")
    await chat.say(name)
    await chat.say(year)
    await chat.say(phone)
    assert "Đã đặt lịch" in chat.text


async def populate(settings: Settings) -> None:
    """One session for every area (23/11/2026 is the fake clock's day): three bookings, one
    cancelled, one marked as come."""
    services = build_services(replace(settings, staff=[
        StaffMember(name="Y sĩ Lan", role="staff", telegram_id="55")]), clock=FakeClock())
    bot = build_bot(services)
    try:
        staff = Transcript(bot, TELEGRAM, "telegram", "55")
        await staff.say("/taokham 28/11/2026 07:30-08:30; Trạm Y tế phường; *; 2")
        assert "Đã tạo buổi khám 1" in staff.text
        await book(Transcript(bot, WEB, "web", "a"), "TDP1", "Lê Thị Một", "1950", "0911111111")
        await book(Transcript(bot, WEB, "web", "b"), "TDP2", "Phạm Văn Hai", "1948", "0922222222")
        third = Transcript(bot, WEB, "web", "c")
        await book(third, "TDP2", "Đỗ Văn Ba", "1960", "0933333333")
        await third.tap("Huỷ lịch khám")
        await staff.say("/dskham 1")
        await staff.tap("Đã đến: 1")  # Lê Thị Một came
    finally:
        await services.db.close()


@pytest.fixture
def config(settings: Settings, tmp_path: Path) -> str:
    asyncio.run(populate(settings))
    path = tmp_path / "healthbot.toml"
    path.write_text(f'[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    return str(path)


def test_list_sheet_and_coverage(config: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checkups", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "#1  28/11/2026 07:30–08:30  Trạm Y tế phường  [mọi khu vực]" in out
    assert "2/4 người đặt, 1 người đã đến" in out
    assert main(["checkups", "--config", config, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["places"], row["booked"], row["came"]) == (4, 2, 1)

    xlsx = tmp_path / "ky-ten.xlsx"
    assert main(["checkups", "sheet", "1", "--config", config, "--xlsx", str(xlsx)]) == 0
    assert "Đã ghi 2 người vào" in capsys.readouterr().out
    sheet = load_workbook(xlsx).active
    assert "28/11/2026" in sheet["A2"].value and "Trạm Y tế phường" in sheet["A2"].value
    assert [c.value for c in sheet[4]] == ["STT", "Giờ", "Họ và tên", "Năm sinh", "Khu vực",
                                         "Điện thoại", "Đã đến", "Ký tên"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert rows == [[1, "07:30", "Lê Thị Một", 1950, "TDP1", "0911111111", "✓", None],
                    [2, "07:30", "Phạm Văn Hai", 1948, "TDP2", "0922222222", None, None]]
    assert sheet.print_title_rows == "$4:$4" and sheet.page_setup.orientation == "landscape"

    assert main(["checkups", "coverage", "--config", config, "--year", "2026", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["year"], out["sessions_held"]) == (2026, 1)
    # every configured area (none booked in TDP3); no population entered: no share
    assert {a: (v["booked"], v["came"], v["share_percent"]) for a, v in out["areas"].items()} == {
        "TDP1": (1, 1, None), "TDP2": (1, 0, None), "TDP3": (0, 0, None)}
    assert {g: (v["booked"], v["came"]) for g, v in out["groups"].items()} == {
        "elderly": (2, 1)}  # born 1950 and 1948
    assert main(["checkups", "coverage", "--config", config, "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert "Tổ dân phố 1: 1 người đặt, 1 người đã đến" in out
    assert main(["checkups", "sheet", "9", "--config", config, "--xlsx", str(xlsx)]) == 2
