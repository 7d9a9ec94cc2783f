"""The 96333 sticker of an elevator's car (电梯应急救援标识) as a PDF, eight to an A4 page, cut lines between.

Each sticker carries, in Chinese: 96333 and what to do when trapped, the elevator's rescue code in large
digits, a QR code of the elevator's public page (``/p/<rescue code>``: a passenger scans it to see the
maintenance and inspection and to complain), the registration code, the address, the use unit and the
maintenance unit with their phones. QR codes are SVG (segno, error correction M or better), so they print
sharp; the CJK font is embedded by WeasyPrint as for the supervision report. The HTML template is
``web/templates/registry/stickers.html``, read as a file: the web layer is never imported from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATE_DIR = str(files("liftwatch") / "web" / "templates" / "registry")
FONT_FAMILY = '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif'
#: The most stickers one PDF holds (125 pages): a district's list is printed in parts.
MAX_STICKERS = 1000
PER_PAGE = 8

_env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class Sticker:
    rescue_code: str
    registration_code: str
    address: str
    use_unit: str
    use_unit_phone: str
    maintenance_unit: str
    maintenance_unit_phone: str
    url: str  # the public page the QR code opens


def qr_svg(url: str) -> Markup:
    """The QR code of ``url`` as inline SVG that takes the size CSS gives it."""
    code = segno.make(url, error="m", micro=False)
    return Markup(
        code.svg_inline(scale=1, border=2, omitsize=True)
    )  # segno draws paths only: no text of ours


def html(stickers: Sequence[Sticker]) -> str:
    pages = [stickers[i : i + PER_PAGE] for i in range(0, len(stickers), PER_PAGE)]
    template = _env.get_template("stickers.html")
    return template.render(pages=pages, qr=qr_svg, font_family=FONT_FAMILY)


def render_pdf(stickers: Sequence[Sticker]) -> bytes:
    """The stickers as one PDF; ValueError when there are none or more than ``MAX_STICKERS``."""
    if not stickers:
        raise ValueError("no elevator to print a sticker for")
    if len(stickers) > MAX_STICKERS:
        raise ValueError(f"{len(stickers)} stickers: at most {MAX_STICKERS} in one file")
    from weasyprint import HTML  # imported when a PDF is made: loading Pango takes a moment

    result: bytes = HTML(string=html(stickers)).write_pdf()
    return result
