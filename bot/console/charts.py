"""Bar charts drawn by the server as plain SVG (no script, no chart library): one bar per
category (a week), stacked or side by side per series, an optional dashed reference line (a
target), a legend. The SVG is an image with a title and a description for screen readers;
the page puts a table of the same figures beside it. A value of None is not drawn (a small
count that must stay hidden, or a median of too few). Pure: text in, text out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#1f5f8b", "#c2571a", "#2e7d32", "#7b3fa0", "#8a6d00", "#b0285c", "#00697a", "#555555")
"""Series colours, each at least 3:1 against white (WCAG non-text contrast)."""
INK = "#1b1b1b"
GRID = "#d0d0d0"
WIDTH = 560
PLOT_HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 28
LEGEND_ROW = 20
CHAR_WIDTH = 7.0
"""Roughly how wide a character of the 12 px labels is, to wrap the legend."""


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    """What to draw. ``key`` makes the ids unique on the page; ``top`` fixes the scale's
    top (feedback: 5) instead of fitting it to the values; ``cap`` cuts the tallest bars."""

    key: str
    title: str
    description: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    stacked: bool = True
    reference: float | None = None
    reference_label: str = ""
    top: float | None = None
    cap: float | None = None
    """Bars taller than this are cut there and say their value above them (one long wait
    must not flatten every other bar)."""


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten, a whole number) for about ``ticks``
    ticks."""
    raw = max(span / ticks, 1.0)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)  # 2.5: only 25, 250, ...
    return float(next(m * power for m in steps if m * power >= raw))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _fixed_step(top: float) -> float:
    """A round step that divides a fixed top into at most six."""
    return (
        next(
            s
            for s in (1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0)
            if top / s <= 6 and (top / s).is_integer()
        )
        if top <= 300
        else nice_step(top)
    )


def _highest(chart: Chart) -> float:
    columns = list(zip(*(s.values for s in chart.series), strict=True)) or [()]
    if chart.stacked:
        heights = [sum(v for v in column if v is not None) for column in columns]
    else:
        heights = [v for column in columns for v in column if v is not None]
    highest = float(max([*heights, chart.reference or 0.0, 0.0]))
    return highest if chart.cap is None else min(highest, chart.cap)


def _legend(names: Sequence[str]) -> list[tuple[float, float, str, str]]:
    """Where each legend entry goes (x, y of its row), wrapped to the chart's width."""
    placed: list[tuple[float, float, str, str]] = []
    x, row = float(LEFT), 0
    for index, name in enumerate(names):
        width = 18 + len(name) * CHAR_WIDTH + 18
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        placed.append((x, row, name, PALETTE[index % len(PALETTE)]))
        x += width
    return placed


def bar_chart(chart: Chart) -> Markup:
    """The chart as an inline SVG element."""
    if chart.top:
        top, step = chart.top, _fixed_step(chart.top)
    else:
        top = _highest(chart)
        step = nice_step(top)
        top = step * max(1, math.ceil(top / step))
    legend = _legend([s.name for s in chart.series])
    rows = 1 + max((row for _, row, _, _ in legend), default=0)
    height = TOP + PLOT_HEIGHT + BOTTOM + rows * LEGEND_ROW
    base = TOP + PLOT_HEIGHT
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(1, len(chart.categories))

    def y(value: float) -> float:
        return base - value / top * PLOT_HEIGHT

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{chart.key}-title" aria-describedby="{chart.key}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{chart.key}-title">{escape(chart.title)}</title>',
        f'<desc id="{chart.key}-desc">{escape(chart.description)}</desc>',
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{_number(tick)}</text>"
        )
        tick += step
    for index, category in enumerate(chart.categories):
        left = LEFT + index * slot
        out.append(
            f'<text x="{left + slot / 2:.1f}" y="{base + 18}" text-anchor="middle" '
            f'fill="{INK}">{escape(category)}</text>'
        )
        shown = [(n, s, s.values[index]) for n, s in enumerate(chart.series) if s.values[index]]
        if chart.stacked:
            width, bottom = slot * 0.6, 0.0
            for n, series, value in shown:
                assert value is not None
                out.append(
                    _bar(
                        left + slot * 0.2,
                        y(bottom + value),
                        width,
                        value / top * PLOT_HEIGHT,
                        PALETTE[n % len(PALETTE)],
                        f"{category}, {series.name}: {_number(value)}",
                    )
                )
                bottom += value
        else:
            width = slot * 0.8 / max(1, len(chart.series))
            for n, series, value in shown:
                assert value is not None
                tall = min(value, chart.cap or top)
                if tall < value:
                    out.append(
                        f'<text x="{left + slot * 0.1 + (n + 0.5) * width:.1f}" '
                        f'y="{y(tall) - 4:.1f}" text-anchor="middle" fill="{INK}">'
                        f"↑{value:.0f}</text>"
                    )
                out.append(
                    _bar(
                        left + slot * 0.1 + n * width,
                        y(tall),
                        width,
                        tall / top * PLOT_HEIGHT,
                        PALETTE[n % len(PALETTE)],
                        f"{category}, {series.name}: {_number(value)}",
                    )
                )
    if chart.reference is not None:
        at = y(chart.reference)
        out.append(
            f'<line class="reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at:.1f}" '
            f'y2="{at:.1f}" stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - RIGHT}" y="{at - 5:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(chart.reference_label)}</text>"
        )
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{INK}"/>')
    for x, row, name, colour in legend:
        row_y = base + BOTTOM + row * LEGEND_ROW + 8
        out.append(
            f'<rect x="{x:.1f}" y="{row_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18:.1f}" y="{row_y}" fill="{INK}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def _bar(x: float, y: float, width: float, height: float, colour: str, label: str) -> str:
    return (
        f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{escape(label)}</title></rect>'
    )
