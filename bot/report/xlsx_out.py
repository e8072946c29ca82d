"""The report as an XLSX: a summary sheet, one sheet per figure group, native Excel charts
(openpyxl), labels in the report's language, dates dd/mm/yyyy and numbers with separators."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.chart import BarChart, LineChart, Reference  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from bot.config import Settings
from bot.i18n import gettext_for
from bot.report.content import INT, MINUTES, MONTH, PCT, ReportContent, Table

FORMATS = {INT: "#,##0", PCT: "0.0%", MINUTES: "#,##0.0", MONTH: "mm/yyyy"}
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")


def _write_table(ws, table: Table, row: int) -> int:  # noqa: ANN001
    """Writes the table at `row`; returns the next free row."""
    ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, italic=True)
    head = row + 1
    for i, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=head, column=i, value=header)
        cell.font, cell.fill = HEAD, FILL
        cell.alignment = Alignment(wrap_text=True)
    for r, values in enumerate(table.rows, start=head + 1):
        for i, (value, kind) in enumerate(zip(values, table.kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=i, value=value)
            if kind in FORMATS:
                cell.number_format = FORMATS[kind]
    last = head + len(table.rows)
    if table.chart and table.rows:
        _chart(ws, table, head, last)
    return last + 2


def _chart(ws, table: Table, head: int, last: int) -> None:  # noqa: ANN001
    chart = LineChart() if table.chart == "line" else BarChart()
    chart.title = table.title
    chart.height, chart.width = 7, 16
    if table.chart == "line":  # satisfaction and target, as percentages
        cols = [i for i, k in enumerate(table.kinds, start=1) if k == PCT]
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    else:
        cols = [i for i, k in enumerate(table.kinds, start=1) if k == INT]
    for col in cols:
        chart.add_data(Reference(ws, min_col=col, min_row=head, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
    ws.add_chart(chart, f"{get_column_letter(len(table.headers) + 2)}{head}")


def write_xlsx(content: ReportContent, settings: Settings, path: Path) -> Path:
    t = gettext_for(content.locale)
    book = Workbook()
    ws = book.active
    ws.title = t("Summary")[:31]
    ws["A1"] = settings.station.name
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = content.title
    ws["A2"].font = Font(bold=True)
    ws["A3"] = t("Period")
    ws["B3"], ws["C3"] = content.period.start, content.period.last_day
    ws["B3"].number_format = ws["C3"].number_format = "dd/mm/yyyy"
    for r, (label, value, kind) in enumerate(content.summary, start=5):
        ws.cell(row=r, column=1, value=label).font = HEAD
        cell = ws.cell(row=r, column=2, value=value)
        cell.number_format = FORMATS.get(kind, "General")
    row = 6 + len(content.summary)
    ws.cell(row=row, column=1, value=t("Shortcomings")).font = HEAD
    for i, line in enumerate(content.shortcomings, start=row + 1):
        ws.cell(row=i, column=1, value="- " + line)
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 14
    for group in content.groups:
        sheet = book.create_sheet(group.title[:31])
        row = 1
        for table in group.tables:
            row = _write_table(sheet, table, row)
        sheet.column_dimensions["A"].width = 40
        for col in "BCDE":
            sheet.column_dimensions[col].width = 16
    annex = book.create_sheet(t("Definitions")[:31])
    annex.append([t("Figure"), t("Definition")])
    for cell in annex[1]:
        cell.font, cell.fill = HEAD, FILL
    for name, definition in content.definitions:
        annex.append([name, definition])
    annex.column_dimensions["A"].width = 32
    annex.column_dimensions["B"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path
