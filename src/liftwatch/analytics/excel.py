"""The report's tables as an Excel workbook (openpyxl): one sheet per table, in the report's order, with the
same figures as the PDF (a fraction in a percentage column is stored as the number and shown as a
percentage, so a spreadsheet can compute with it). A first sheet holds the title, scope and findings."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from liftwatch.analytics.report import Report, Table, word

SHEET_MAX = 31  # Excel's limit on a sheet's name
BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(table: Table, used: set[str]) -> str:
    base = table.title.translate(BAD)[:SHEET_MAX].strip() or table.key
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: SHEET_MAX - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def workbook(report: Report) -> Workbook:
    """The workbook: "summary" (title, scope, period, findings), then every table of the report."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = word("s_findings", report.lang)[:SHEET_MAX].translate(BAD)
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([report.scope_label, report.period_label])
    summary.append([])
    for line in report.findings:
        summary.append([line])
    summary.column_dimensions["A"].width = 100
    used = {summary.title}
    for table in report.tables:
        ws = wb.create_sheet(sheet_name(table, used))
        ws.append(table.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append(list(row))
        for column in table.percent_columns:
            for (cell,) in ws.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = "0.0%"
        for i, text in enumerate(table.header, 1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(text) + 2))
        ws.freeze_panes = "A2"
    return wb


def xlsx(report: Report) -> bytes:
    buffer = BytesIO()
    workbook(report).save(buffer)
    return buffer.getvalue()
