"""A radial chart of competence levels, rendered on the server as SVG.

No JavaScript and no image request: the chart is part of the page, readable by assistive
technologies through its title and description, and the results page also gives the same
numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Axis:
    code: str
    label: str
    level: int


def radar_svg(axes: Sequence[Axis], scale: int, *, title: str, description: str) -> Markup:
    """SVG with one axis per competence and rings for each level up to ``scale``."""
    if len(axes) < 3 or scale < 1:
        return Markup("")
    size, centre, radius = 360, 180.0, 130.0
    count = len(axes)

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        distance = radius * value / scale
        return centre + distance * math.cos(angle), centre + distance * math.sin(angle)

    parts = [
        f'<svg class="radar" viewBox="0 0 {size} {size}" role="img" '
        'aria-labelledby="radar-title radar-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="radar-title">{escape(title)}</title>',
        f'<desc id="radar-desc">{escape(description)}</desc>',
    ]
    for ring in range(1, scale + 1):
        ring_points = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(count))
        )
        parts.append(f'<polygon class="radar-ring" points="{ring_points}"/>')
    for index, axis in enumerate(axes):
        x, y = point(index, scale)
        parts.append(
            f'<line class="radar-axis" x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}"/>'
        )
        # 18 px beyond the outer ring whatever the scale (at scale 1, « scale + 0.75 » put
        # the labels outside the viewBox, where the SVG clips them away).
        lx, ly = point(index, scale * (radius + 18) / radius)
        anchor = "middle" if abs(lx - centre) < 10 else ("start" if lx > centre else "end")
        parts.append(
            f'<text class="radar-label" x="{lx:.1f}" y="{ly + 4:.1f}" '
            f'text-anchor="{anchor}">{escape(axis.code)}</text>'
        )
    shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, a.level) for i, a in enumerate(axes)))
    parts.append(f'<polygon class="radar-shape" points="{shape}"/>')
    for index, axis in enumerate(axes):
        x, y = point(index, axis.level)
        parts.append(f'<circle class="radar-dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text node is escaped above
