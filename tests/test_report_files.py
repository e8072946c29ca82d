"""The report files for the hand-counted half year: the DOCX read back with python-docx (header
block, headings, tables, charts), the XLSX with openpyxl (sheets, native charts, number formats),
the CLI, and a LibreOffice rendering of page 1 when LibreOffice is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.cli import main
from bot.report.figures import parse_period
from bot.report.files import make_report
from content.library import load_library
from storage.db import open_database
from tests.report_seed import seed

ARTEFACTS = Path(__file__).parent / "artefacts"


async def make(settings, tmp_path: Path, locale: str = "vi"):  # noqa: ANN001, ANN201
    db = open_database(settings.database.url)
    async with db.sessions() as session, session.begin():
        await seed(session)
    async with db.sessions() as session:
        files = await make_report(session, settings, parse_period("2026-H1"), tmp_path,
                                  locale=locale, library=load_library(), plan=None,
                                  issued_on=date(2026, 7, 8))
    await db.close()
    return files


def all_text(doc: Document) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


async def test_docx_has_the_administrative_layout_and_the_figures(settings, tmp_path) -> None:  # noqa: ANN001
    files = await make(settings, tmp_path)
    docx_path = next(p for p in files.paths if p.suffix == ".docx")
    assert docx_path.name == "bao-cao-2026-H1.docx"
    doc = Document(str(docx_path))
    header = doc.tables[0].rows[0].cells
    assert "TRẠM Y TẾ PHƯỜNG MẪU" in header[0].text and "Số: …/BC-TYT" in header[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[1].text
    assert "Độc lập - Tự do - Hạnh phúc" in header[1].text
    assert "Phường Mẫu, ngày 08 tháng 07 năm 2026" in header[1].text
    text = all_text(doc)
    assert "BÁO CÁO" in text
    assert "6 tháng đầu năm 2026" in text
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert [h.split(" ")[0] for h in headings if h[:3] in ("I. ", "II.", "III")] == [
        "I.", "II.", "III."]
    assert any("KẾT QUẢ" in h for h in headings) and any("PHƯƠNG HƯỚNG" in h for h in headings)
    # Section II is filled from the data: 75 % satisfaction, one overdue ticket.
    assert "75,0 %" in text and "90,0 %" in text
    assert "Nơi nhận:" in text and "TRẠM TRƯỞNG" in text
    # The figures tables: delivered 7, the category names not their codes.
    rows = {tuple(c.text for c in r.cells) for t in doc.tables for r in t.rows}
    assert ("Số tin đã gửi đến", "7") in rows
    assert ("Số phản ánh nhận được", "7", "–") in rows
    assert not any("waiting" == cell for row in rows for cell in row)
    assert len(doc.inline_shapes) == 4  # the four charts
    assert "PHỤ LỤC" in text and "Tỷ lệ hài lòng" in text


async def test_xlsx_has_sheets_native_charts_and_formats(settings, tmp_path) -> None:  # noqa: ANN001
    files = await make(settings, tmp_path)
    book = load_workbook(next(p for p in files.paths if p.suffix == ".xlsx"))
    assert book.sheetnames == ["Tổng hợp", "Truyền thông", "Người dân", "Câu hỏi", "Nhắc lịch",
                               "Phản ánh", "Khám sức khỏe, hài lòng", "Định nghĩa"]
    summary = book["Tổng hợp"]
    values = {summary.cell(r, 1).value: summary.cell(r, 2) for r in range(5, 13)}
    assert values["Số tin đã gửi đến"].value == 7
    assert values["Số tin đã gửi đến"].number_format == "#,##0"
    assert values["Tỷ lệ hài lòng"].value == 0.75
    assert values["Tỷ lệ hài lòng"].number_format == "0.0%"
    assert summary["B3"].number_format == "dd/mm/yyyy"
    assert len(book["Truyền thông"]._charts) == 1
    assert len(book["Câu hỏi"]._charts) == 1
    assert len(book["Phản ánh"]._charts) == 2
    feedback = [[c.value for c in row] for row in book["Phản ánh"].iter_rows()]
    assert ["Số phản ánh nhận được", 7, None, None, None] in feedback
    flat = {v for row in feedback for v in row if isinstance(v, str)}
    assert "waiting" not in flat and "telegram" not in flat


async def test_english_labels(settings, tmp_path) -> None:  # noqa: ANN001
    files = await make(settings, tmp_path, locale="en")
    book = load_workbook(next(p for p in files.paths if p.suffix == ".xlsx"))
    assert book.sheetnames[0] == "Summary" and "Residents' feedback" in book.sheetnames
    doc = Document(str(next(p for p in files.paths if p.suffix == ".docx")))
    assert "the first 6 months of 2026" in all_text(doc)


def test_cli_writes_both_files(settings, tmp_path, capsys) -> None:  # noqa: ANN001
    import asyncio

    db = open_database(settings.database.url)

    async def fill() -> None:
        async with db.sessions() as session, session.begin():
            await seed(session)
        await db.close()

    asyncio.run(fill())
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{settings.database.url}"\n')
    out = tmp_path / "out"
    assert main(["report", "--config", str(config), "--period", "2026-H1", "--out",
                 str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bao-cao-2026-H1.docx",
                                                     "bao-cao-2026-H1.xlsx"]
    assert "5/5 done" in capsys.readouterr().err  # the progress bar reached its end
    assert main(["report", "--config", str(config), "--period", "2026-Q3"]) == 2


async def test_docx_renders_through_libreoffice(settings, tmp_path) -> None:  # noqa: ANN001
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftoppm") is None:
        if os.environ.get("HEALTHBOT_REQUIRE_OFFICE"):  # CI installs them: a skip would hide it
            pytest.fail("HEALTHBOT_REQUIRE_OFFICE is set but soffice or pdftoppm is missing")
        pytest.skip("LibreOffice (soffice) and pdftoppm are not installed; CI installs them")
    files = await make(settings, tmp_path)
    docx_path = next(p for p in files.paths if p.suffix == ".docx")
    subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(docx_path)], check=True, timeout=180, capture_output=True)
    pdf = docx_path.with_suffix(".pdf")
    assert pdf.exists()
    ARTEFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(ARTEFACTS / "report-page")], check=True, timeout=60)
    assert list(ARTEFACTS.glob("report-page*.png"))
    page_one = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                              timeout=60, capture_output=True, text=True).stdout
    assert "BÁO CÁO" in page_one  # the Vietnamese title survived the rendering


async def test_plan_items_fill_sections_ii_and_iii(settings, tmp_path) -> None:  # noqa: ANN001
    from bot.report.files import load_plan_quietly

    plan = load_plan_quietly(settings)
    assert plan is not None
    db = open_database(settings.database.url)
    async with db.sessions() as session, session.begin():
        await seed(session)
    async with db.sessions() as session:
        files = await make_report(session, settings, parse_period("2026-H1"), tmp_path,
                                  formats=("docx",), library=load_library(), plan=plan,
                                  issued_on=date(2026, 7, 8))
    await db.close()
    text = all_text(Document(str(files.paths[0])))
    part_ii = text.split("TỒN TẠI, HẠN CHẾ")[1].split("PHƯƠNG HƯỚNG KỲ TỚI")[0]
    part_iii = text.split("PHƯƠNG HƯỚNG KỲ TỚI")[1]
    # The seeded campaigns are not the station's plan: its H1 items had nothing sent.
    assert "Nội dung kế hoạch chưa phát tin trong kỳ:" in part_ii
    assert "Quá hạn" not in part_ii and "Còn 1 phản ánh quá hạn giải quyết" in part_ii
    assert "6 tháng cuối năm 2026" in part_iii
    assert "Phòng, chống sốt xuất huyết (" in part_iii  # a plan item with its window
