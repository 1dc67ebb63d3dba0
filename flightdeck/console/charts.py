"""Daily time-series as server-rendered SVG (no JavaScript, nothing from a CDN)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 28
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


@dataclass
class Line:
    label: str
    points: dict[date, float]
    colour: str = ""


@dataclass
class Marker:
    day: date
    label: str


@dataclass
class Chart:
    title: str
    since: date
    until: date
    lines: list[Line]
    markers: list[Marker] = field(default_factory=list)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def render(chart: Chart) -> str:
    """An accessible SVG: a title, a y axis with five ticks, a line per series with a dot per
    day (each with a <title> tooltip), and a dashed red rule on each alert's day."""
    days = max((chart.until - chart.since).days, 0) + 1
    top_value = _nice_max(max((v for ln in chart.lines for v in ln.points.values()), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        offset = (day - chart.since).days
        return LEFT + (plot_w * offset / (days - 1) if days > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top_value

    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for i in range(5):
        value = top_value * i / 4
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:,.0f}</text>'
        )
    for label_day in (chart.since, chart.until):
        out.append(
            f'<text class="tick" x="{x(label_day):.1f}" y="{HEIGHT - 8}" '
            f'text-anchor="middle">{label_day.isoformat()}</text>'
        )
    for marker in chart.markers:
        if chart.since <= marker.day <= chart.until:
            mx = x(marker.day)
            out.append(
                f'<g class="alert-marker"><title>{escape(marker.label)}</title>'
                f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
                f'<text x="{mx + 3:.1f}" y="{TOP + 10}">⚠</text></g>'
            )
    for n, line in enumerate(chart.lines):
        colour = line.colour or COLOURS[n % len(COLOURS)]
        series = [
            (chart.since + timedelta(days=d), line.points.get(chart.since + timedelta(days=d), 0.0))
            for d in range(days)
        ]
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in series)
        out.append(
            f'<g class="series" data-label="{escape(line.label)}">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
        )
        for d, v in series:
            out.append(
                f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(line.label)} {d.isoformat()}: {v:,.2f}</title></circle>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
