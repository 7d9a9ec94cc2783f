"""The report as HTML and as a PDF (WeasyPrint): A4 portrait, print CSS, page numbers, the CJK font
embedded (WeasyPrint subsets the fonts it uses into the file). Charts are inline SVG (``charts.py``), so
no browser is needed. The HTML template is ``web/templates/report/document.html``, read as a file: the
web layer is never imported from here.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from liftwatch.analytics import charts
from liftwatch.analytics.report import Cell, Report, Table, number, percent, word

TEMPLATE_DIR = str(files("liftwatch") / "web" / "templates" / "report")
#: the CJK fonts the set-up installs (Debian fonts-noto-cjk); WeasyPrint falls back to any CJK font found
FONT_FAMILY = '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif'

_env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]))


def cell_text(table: Table, column: int, value: Cell) -> str:
    """A cell as the report shows it: a fraction in a percentage column as ``97.5%``; other decimals with
    two places; a missing figure as "—"."""
    if value is None:
        return "—"
    if column in table.percent_columns and isinstance(value, float | int):
        return percent(float(value))
    if isinstance(value, float):
        return number(value)
    return str(value)


def html(report: Report) -> str:
    """The report as one HTML document (its charts inline)."""
    context: dict[str, Any] = {
        "report": report,
        "font_family": FONT_FAMILY,
        "cell_text": cell_text,
        "chart_svg": lambda chart: Markup(charts.svg(chart)),  # built from escaped text only
        "findings_title": word("s_findings", report.lang),
        "page_word": ("第", "页", "共", "页") if report.lang == "zh" else ("Page ", "", "of ", ""),
    }
    return _env.get_template("document.html").render(context)


def pdf(report: Report) -> bytes:
    """The report as a PDF document."""
    from weasyprint import HTML  # imported when a PDF is made: loading Pango takes a moment

    result: bytes = HTML(string=html(report)).write_pdf()
    return result
