"""SVG charts rendered on the server for the console (docs/console.md): no script, no external
library. A line chart of (time, value) points with its axes labelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


def step_chart(steps: Sequence[tuple[datetime, float | None]], end: datetime, *, unit: str) -> str:
    """A step chart: each value holds from its time until the next one's (the last until
    `end`); None values (no limit) are left out."""
    points: list[tuple[datetime, float | None]] = []
    for index, (at, value) in enumerate(steps):
        until = steps[index + 1][0] if index + 1 < len(steps) else end
        if value is not None:
            points += [(at, value), (until, value)]
    return line_chart(points, unit=unit, ordered=True)


def line_chart(
    points: Sequence[tuple[datetime, float | None]], *, unit: str, ordered: bool = False
) -> str:
    """An SVG line chart (as markup to embed) of the points in time order (as given when
    `ordered`)."""
    given = [(t, v) for t, v in points if v is not None]
    data = given if ordered else sorted(given)
    if not data:
        return ""
    t0, t1 = min(t for t, _ in data), max(t for t, _ in data)
    span = max((t1 - t0).total_seconds(), 1.0)
    low = min(0.0, min(v for _, v in data))
    high = max(v for _, v in data)
    if high <= low:
        high = low + 1.0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(t: datetime) -> float:
        return LEFT + (t - t0).total_seconds() / span * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v - low) / (high - low) * plot_h

    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in data)
    ticks = []
    for i in range(5):
        value = low + (high - low) * i / 4
        ticks.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="grid"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{value:.3g}</text>"
        )
    labels = (
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{escape(t0.strftime("%H:%M:%S"))}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(t1.strftime('%H:%M:%S'))}</text>"
        f'<text x="{LEFT + 4}" y="{TOP + 10}" class="unit">{escape(unit)}</text>'
    )
    dots = (
        ""
        if ordered
        else "".join(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2"/>' for t, v in data)
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(unit)} over time" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(ticks)}{labels}"
        f'<polyline points="{path}" class="line"/>{dots}</svg>'
    )
