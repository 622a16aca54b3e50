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


def bar_chart(bars: Sequence[tuple[str, float]], *, unit: str, limit: float | None = None) -> str:
    """Horizontal bars, one per label, with an optional limit line."""
    if not bars:
        return ""
    row = 22
    label_w = 200
    plot_w = WIDTH - label_w - RIGHT - 50
    height = TOP + row * len(bars) + BOTTOM
    high = max([v for _, v in bars] + ([limit] if limit else []) + [1.0])
    parts = []
    for index, (label, value) in enumerate(bars):
        y = TOP + index * row
        width = value / high * plot_w
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" class="bar"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 15}">{value:g} {escape(unit)}</text>'
        )
    if limit:
        x = label_w + limit / high * plot_w
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}" class="limit"/>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">limit {limit:g}</text>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="allocation in {escape(unit)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
