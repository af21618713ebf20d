"""A radial chart of competence levels, rendered on the server as SVG.

No JavaScript and no image request: the chart is part of the page, readable by assistive
technologies through its title and description, and the results page also gives the same
numbers as a table. Each axis is labelled with its code and a short name in its area's
colour; rings go up to the parcours' own highest level (not the framework's 8); a dashed
outline shows the levels expected for the agent's job family when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: One colour per area (1–5), each ≥ 4.5:1 on white so that labels in it stay readable.
AREA_COLOURS = ("#1f3f8f", "#6a1b9a", "#8a4b00", "#a4161a", "#1d6b3a")


@dataclass(frozen=True)
class Axis:
    code: str
    label: str
    level: int
    area: int = 0
    expected: int | None = None


def area_colour(area: int) -> str:
    return AREA_COLOURS[(area - 1) % len(AREA_COLOURS)] if area else AREA_COLOURS[0]


def radar_svg(axes: Sequence[Axis], scale: int, *, title: str, description: str) -> Markup:
    """SVG with one axis per competence and rings for each level up to ``scale``."""
    if len(axes) < 3 or scale < 1:
        return Markup("")
    width, height = 640.0, 440.0
    cx, cy, radius = width / 2, height / 2, 120.0
    count = len(axes)

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        distance = radius * min(value, scale) / scale
        return cx + distance * math.cos(angle), cy + distance * math.sin(angle)

    def polygon(values: Sequence[float]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v) for i, v in enumerate(values)))

    parts = [
        f'<svg class="radar" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-labelledby="radar-title radar-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="radar-title">{escape(title)}</title>',
        f'<desc id="radar-desc">{escape(description)}</desc>',
    ]
    for ring in range(1, scale + 1):
        parts.append(f'<polygon class="radar-ring" points="{polygon([ring] * count)}"/>')
        x, y = point(0, ring)
        parts.append(
            f'<text class="radar-tick" x="{x + 4:.1f}" y="{y + 4:.1f}" aria-hidden="true">'
            f"{ring}</text>"
        )
    for index, axis in enumerate(axes):
        x, y = point(index, scale)
        parts.append(f'<line class="radar-axis" x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}"/>')
        # 16 px beyond the outer ring whatever the scale.
        lx, ly = point(index, scale * (radius + 16) / radius)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        # Two lines (code, then short name): above the axis end at the top, below it at the
        # bottom, centred on it at the sides.
        top = ly - 22 if ly < cy - 10 else (ly - 4 if abs(ly - cy) <= 10 else ly + 12)
        colour = area_colour(axis.area)
        parts.append(
            f'<text class="radar-label" y="{top:.1f}" text-anchor="{anchor}" fill="{colour}">'
            f'<tspan x="{lx:.1f}" font-weight="700">{escape(axis.code)}</tspan>'
            f'<tspan x="{lx:.1f}" dy="1.15em">{escape(axis.label)}</tspan></text>'
        )
    expected = [axis.expected for axis in axes]
    if any(value is not None for value in expected):
        parts.append(
            f'<polygon class="radar-expected" points="{polygon([v or 0 for v in expected])}"/>'
        )
    parts.append(f'<polygon class="radar-shape" points="{polygon([a.level for a in axes])}"/>')
    for index, axis in enumerate(axes):
        x, y = point(index, axis.level)
        parts.append(
            f'<circle class="radar-dot" cx="{x:.1f}" cy="{y:.1f}" r="4" '
            f'fill="{area_colour(axis.area)}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text node is escaped above
