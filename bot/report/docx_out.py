"""The report as a DOCX in the layout of Vietnamese administrative documents (Decree 30/2020/NĐ-CP,
Appendix I): A4, Times New Roman 13–14, margins 20–25 mm top/bottom, 30–35 mm left, 15–20 mm
right; the issuing body (and the body above it) on the left and the national motto on the right;
number/symbol and the place and date; the document type and summary as the title; the body
(I. results with tables and charts, II. shortcomings, III. next period); the recipients ("Nơi
nhận") and the signature block. Staff fill in the number, the signer and the rest of section II.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from bot.config import Settings
from bot.i18n import gettext_for
from bot.report.content import INT, MINUTES, PCT, ReportContent, Table, cell_text

FONT = "Times New Roman"


def _font(run, size: float = 13, bold: bool = False, italic: bool = False) -> None:  # noqa: ANN001
    run.font.name = FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    run.font.size = Pt(size)
    run.bold, run.italic = bold, italic


def _para(container, text: str = "", *, size: float = 13, bold: bool = False,  # noqa: ANN001
          italic: bool = False, align=None, style: str | None = None):  # noqa: ANN001, ANN202
    p = container.add_paragraph(style=style) if style else container.add_paragraph()
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(3)
    if text:
        _font(p.add_run(text), size, bold, italic)
    return p


def _heading(doc, text: str, level: int) -> None:  # noqa: ANN001
    h = doc.add_heading(level=level)
    _font(h.add_run(text), 13, bold=True, italic=level > 1)
    h.runs[0].font.color.rgb = None


def _table(doc, table: Table, locale: str) -> None:  # noqa: ANN001
    _para(doc, table.title, bold=True, italic=True)
    rows = table.rows or [[""] * len(table.headers)]
    grid = doc.add_table(rows=1 + len(rows), cols=len(table.headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, header in enumerate(table.headers):
        cell = grid.rows[0].cells[i]
        cell.text = ""
        _font(cell.paragraphs[0].add_run(header), 12, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r, row in enumerate(rows, start=1):
        for i, value in enumerate(row):
            kind = table.kinds[i]
            cell = grid.rows[r].cells[i]
            cell.text = ""
            text = cell_text(value, kind, locale) if table.rows else "–"
            _font(cell.paragraphs[0].add_run(text), 12)
            if kind in (INT, PCT, MINUTES):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc)


def write_docx(content: ReportContent, settings: Settings, path: Path, *, charts=(),  # noqa: ANN001
               issued_on: date) -> Path:
    t = gettext_for(content.locale)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)

    station = settings.station
    header = doc.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    left.text = right.text = ""
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(t("PEOPLE'S COMMITTEE OF {ward}").format(ward=station.ward).upper()), 12.5)
    _para(left, station.name.upper(), size=12.5, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(left, t("No.: …/BC-TYT"), size=13, align=WD_ALIGN_PARAGRAPH.CENTER)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), 12.5, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(right, t("{place}, day {d} month {m} year {y}").format(
        place=station.ward, d=f"{issued_on.day:02d}", m=f"{issued_on.month:02d}",
        y=issued_on.year), size=13, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    _para(doc)
    _para(doc, t("REPORT"), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, content.title, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "________", align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, t("{station} reports the results of health communication and the handling of "
                 "residents' feedback through the chatbot in {period} as follows:").format(
                     station=station.name, period=content.period_name))

    _heading(doc, "I. " + t("RESULTS"), 1)
    for n, group in enumerate(content.groups, start=1):
        _heading(doc, f"{n}. {group.title}", 2)
        for table in group.tables:
            _table(doc, table, content.locale)
    if charts:
        _heading(doc, f"{len(content.groups) + 1}. " + t("Charts"), 2)
        for caption, png in charts:
            doc.add_picture(str(png), width=Mm(160))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _para(doc, caption, size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    _heading(doc, "II. " + t("SHORTCOMINGS AND LIMITATIONS"), 1)
    for line in content.shortcomings or [t("No shortcoming shows in the figures.")]:
        _para(doc, "- " + line)
    _para(doc, t("(Staff add the causes and other shortcomings here.)"), italic=True)

    _heading(doc, "III. " + t("DIRECTIONS FOR THE NEXT PERIOD"), 1)
    _para(doc, t("Plan items in the calendar for {period}:").format(period=_next_name(content)))
    for line in content.next_items or [t("No plan item is in the calendar yet.")]:
        _para(doc, "- " + line)
    _para(doc, t("(Staff add the tasks and proposals here.)"), italic=True)

    sign = doc.add_table(rows=1, cols=2)
    left, right = sign.rows[0].cells
    left.text = right.text = ""
    _font(left.paragraphs[0].add_run(t("Recipients:")), 12, bold=True, italic=True)
    for line in (t("- Ward People's Committee (to report);"), t("- Ward Health Department;"),
                 t("- Filed: Office.")):
        _para(left, line, size=11)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(t("HEAD OF THE HEALTH STATION")), 13, bold=True)
    _para(right, t("(Signature, full name)"), size=13, italic=True,
          align=WD_ALIGN_PARAGRAPH.CENTER)

    doc.add_page_break()
    _para(doc, t("ANNEX: DEFINITIONS OF THE FIGURES"), size=13, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    grid = doc.add_table(rows=1 + len(content.definitions), cols=2)
    grid.style = "Table Grid"
    for i, text in enumerate((t("Figure"), t("Definition"))):
        grid.rows[0].cells[i].text = ""
        _font(grid.rows[0].cells[i].paragraphs[0].add_run(text), 12, bold=True)
    for r, (name, definition) in enumerate(content.definitions, start=1):
        for i, text in enumerate((name, definition)):
            grid.rows[r].cells[i].text = ""
            _font(grid.rows[r].cells[i].paragraphs[0].add_run(text), 12)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _next_name(content: ReportContent) -> str:
    from bot.report.content import period_name

    return period_name(content.period.next(), content.locale)
