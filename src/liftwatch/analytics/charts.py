"""Bar and line charts as inline SVG, from numbers (pure): the PDF needs no browser and no JavaScript.

Every text of a chart is a real ``<text>`` element (title, category labels, values), so the PDF's text
layer holds them and a reader can search them. A missing value (None) draws no bar or point and shows "—".
"""

from __future__ import annotations

from html import escape

from liftwatch.analytics.report import Chart

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 40, 64
BAR = "#2f6db5"
LINE = "#c0392b"
GRID = "#d9d9d9"
FONT = 'font-family="Noto Sans CJK SC, sans-serif"'


def _nice_max(top: float) -> float:
    """A round upper bound of the axis (1, 2, 2.5, 5 × 10^k) at or above ``top``."""
    if top <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= top:
        scale *= 10
    while scale > top:
        scale /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= top:
            return step * scale
    return 10 * scale


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (no XML declaration), WIDTH × HEIGHT user units."""
    values = [v for v in chart.values if v is not None]
    top = _nice_max(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(chart.labels), 1)
    step = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{chart.kind}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" {FONT} font-size="11">',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(chart.title)}</text>",
    ]
    if chart.unit:
        parts.append(f'<text x="{LEFT}" y="{TOP - 8}" font-size="10" fill="#555">{escape(chart.unit)}</text>')
    for i in range(5):  # the grid and the axis values
        tick = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="9" fill="#555">'
            f"{_fmt(tick)}</text>"
        )
    points: list[tuple[float, float]] = []
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=False)):
        cx = LEFT + step * (i + 0.5)
        if n <= 8:
            parts.append(
                f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" font-size="10">'
                f"{escape(label)}</text>"
            )
        else:  # many categories (a year of months): slanted, so long labels do not overlap
            ly = TOP + plot_h + 12
            parts.append(
                f'<text x="{cx:.1f}" y="{ly}" text-anchor="end" font-size="9" '
                f'transform="rotate(-35 {cx:.1f} {ly})">{escape(label)}</text>'
            )
        if value is None:
            parts.append(f'<text x="{cx:.1f}" y="{TOP + plot_h - 4}" text-anchor="middle">—</text>')
            continue
        h = plot_h * value / top
        y = TOP + plot_h - h
        if chart.kind == "bar":
            w = step * 0.6
            parts.append(
                f'<rect x="{cx - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{BAR}"/>'
            )
        else:
            points.append((cx, y))
            parts.append(f'<circle cx="{cx:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"/>')
        parts.append(
            f'<text x="{cx:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="9">{_fmt(value)}</text>'
        )
    if chart.kind == "line" and len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#333"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
