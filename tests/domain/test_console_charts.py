"""The console's server-rendered SVG charts: one point per day of the window (a missing day is
0), values scaled under a round maximum, alerts marked only inside the window, text escaped."""

from __future__ import annotations

import re
from datetime import date

from flightdeck.console.charts import Chart, Line, Marker, render


def test_a_chart_has_a_point_per_day_and_marks_alerts_in_its_window() -> None:
    since, until = date(2026, 11, 1), date(2026, 11, 10)
    svg = render(
        Chart(
            title="Spend <&> revenue",
            since=since,
            until=until,
            lines=[Line("spend", {date(2026, 11, 3): 120.0, date(2026, 11, 4): 80.0})],
            markers=[
                Marker(date(2026, 11, 4), "ROAS_DROP <b>"),
                Marker(date(2026, 10, 1), "before the window"),
            ],
        )
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>Spend &lt;&amp;&gt; revenue</title>" in svg
    assert svg.count("<circle") == 10
    assert svg.count('class="alert-marker"') == 1 and "ROAS_DROP &lt;b&gt;" in svg
    assert "before the window" not in svg
    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert len(ys) == 10 and min(ys) == ys[2] and ys[0] == ys[9]  # day 3 highest; gaps are 0
    assert ">200<" in svg  # 120 rounds up to an axis of 200


def test_an_empty_window_still_renders() -> None:
    svg = render(Chart(title="nothing", since=date(2026, 1, 1), until=date(2026, 1, 1), lines=[]))
    assert "<polyline" not in svg and svg.endswith("</svg>")
