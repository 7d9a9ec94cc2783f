"""The report as a PDF and as an Excel workbook on a seeded database (tests/unit/analytics/report_city.py):
the PDF's text holds the Chinese title, a table's header and the charts' titles and labels; every font is
embedded; the workbook holds every table with the same figures as the report."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.analytics import excel, gather, pdf
from liftwatch.analytics.report import Report, ReportPeriod, build_report
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from tests.unit.analytics.report_city import CITY_SETTINGS, report_city

pytestmark = pytest.mark.sqlite_only  # the rendering; the figures are tested on both backends


@pytest.fixture
def report(session: Session, clock: FixedClock) -> Report:
    report_city(session, clock)
    figures = gather.gather(session, gather.CITY, ReportPeriod.parse("2026-11"), clock, CITY_SETTINGS)
    return build_report(figures)


def _fonts(reader: PdfReader) -> list[Any]:
    """Every font's descriptor (a composite font's is on its descendant)."""
    out = []
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if font["/Subtype"] == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            out.append((font["/BaseFont"], font["/FontDescriptor"].get_object()))
    return out


def test_the_pdf_renders_in_chinese_with_its_fonts(report: Report) -> None:
    body = pdf.pdf(report)
    assert body.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(body))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())
    assert "本市电梯安全监管月报2026年11月" in flat  # the title
    assert "各区救援情况" in flat and "万台困人（起/万台）" in flat and "按时到达率" in flat  # a table
    assert "静安区" in flat and "徐汇区" in flat and "10000.00" in flat  # its rows
    assert "各区万台困人（起/万台）" in flat and "困人起数逐月趋势" in flat  # the charts' titles
    assert "2025年12月" in flat  # a label of the trend chart
    assert "困人率最高的是徐汇区" in flat  # a finding
    assert f"第1页/共{len(reader.pages)}页" in flat  # page numbers
    fonts = _fonts(reader)
    assert fonts and all("/FontFile2" in d or "/FontFile3" in d or "/FontFile" in d for _, d in fonts), (
        "every font embedded"
    )
    assert any("CJK" in str(name) for name, _ in fonts)


def test_the_workbook_holds_every_table(report: Report) -> None:
    wb = load_workbook(BytesIO(excel.xlsx(report)))
    assert len(wb.sheetnames) == 1 + len(report.tables)  # the findings, then every table
    summary = wb.worksheets[0]
    assert summary["A1"].value == report.title
    assert [summary.cell(4 + i, 1).value for i in range(len(report.findings))] == report.findings
    for ws, table in zip(wb.worksheets[1:], report.tables, strict=True):
        assert ws.title == table.title[:31]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        assert rows[0] == table.header
        assert rows[1:] == table.rows, table.key
    district = wb.worksheets[1 + [t.key for t in report.tables].index("district")]
    assert [c.value for c in district[2]][:4] == ["徐汇区", 2, 2, 10000.0]
    assert district.cell(2, 6).number_format == "0.0%"  # the on-time rate, a fraction shown as %


def test_the_html_is_print_ready(report: Report) -> None:
    page = pdf.html(report)
    assert "size: A4 portrait" in page and "counter(pages)" in page and "<svg" in page
    assert "@page" in page and "Noto Sans CJK SC" in page


def test_the_report_commands(engine: Engine, session: Session, clock: FixedClock, tmp_path: Path) -> None:
    """`liftwatch report monthly|annual` write the city's PDF and workbook (the CLI acts as the system)."""
    report_city(session, clock)
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["report", "annual", "--year", "2026", "--out", str(out), "--database-url", url]
    )
    assert result.exit_code == 0, result.stderr
    assert "本市电梯安全监管年报 2026年" in result.stdout
    assert (out / "report-2026.pdf").read_bytes().startswith(b"%PDF-")
    wb = load_workbook(out / "report-2026.xlsx")
    trend = wb.worksheets[-1]
    assert [r[0] for r in trend.iter_rows(min_row=2, values_only=True)] == [
        f"2026-{m:02d}" for m in range(1, 13)
    ]
    assert [r[2] for r in trend.iter_rows(min_row=2, values_only=True)][10] == 3  # November's entrapments
    bad = CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-13", "--database-url", url])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr
