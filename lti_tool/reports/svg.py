"""Charts of the training reports, drawn on the server as SVG: no JavaScript, readable in an
LMS iframe, printable.

Each chart carries its numbers in the drawing (a colour is never the only carrier of a value:
WCAG 1.4.1) and the page puts a table with the same figures next to it; the SVG itself is an
image with a short accessible name (``role="img"``), so a screen reader goes to the table.
Colours are light enough for black text (contrast ≥ 4.5:1) except the darkest level shades,
which carry white text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from lti_tool.reports.analysis import MAX_LEVEL, AgentRow, Cell

# Fill and text colour per tone; each pair has a contrast ratio of at least 4.5:1.
TONES: Mapping[str, tuple[str, str]] = {
    "gap-2": ("#f4b4b4", "#000000"),
    "gap-1": ("#fbd9a6", "#000000"),
    "gap0": ("#cfe8cf", "#000000"),
    "gap+": ("#9fd3a3", "#000000"),
    "none": ("#f2f2f2", "#000000"),
    **{
        f"level-{level}": color
        for level, color in enumerate(
            [
                ("#eef3fb", "#000000"),
                ("#dbe6f7", "#000000"),
                ("#c3d6f1", "#000000"),
                ("#a9c4ea", "#000000"),
                ("#8db1e3", "#000000"),
                ("#2f5ea8", "#ffffff"),
                ("#244b8a", "#ffffff"),
                ("#1b3a6d", "#ffffff"),
                ("#122850", "#ffffff"),
            ]
        )
    },
}


def _minus(value: int) -> str:
    return f"−{-value}" if value < 0 else f"+{value}"


def cell_text(cell: Cell) -> str:
    """What a cell says: the level, and the gap to the expectation when there is one."""
    if cell.level is None:
        return "–"
    if cell.gap is None:
        return str(cell.level)
    return f"{cell.level} ({_minus(cell.gap)})" if cell.gap else f"{cell.level} (=)"


def heatmap_svg(
    lines: Sequence[tuple[AgentRow, Sequence[Cell]]],
    codes: Sequence[str],
    labels: Mapping[str, str],
    *,
    title: str,
) -> Markup:
    """Agents (rows) × competences (columns); ``labels`` maps agent keys to what to print."""
    if not lines or not codes:
        return Markup("")
    label_width, cell_w, cell_h, head = 190, 62, 26, 30
    width = label_width + cell_w * len(codes)
    height = head + cell_h * len(lines)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="13">'
    ]
    for index, code in enumerate(codes):
        x = label_width + index * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x:.0f}" y="{head - 10}" text-anchor="middle" '
            f'font-weight="bold">{escape(code)}</text>'
        )
    for row_index, (row, cells) in enumerate(lines):
        y = head + row_index * cell_h
        label = labels.get(row.key, row.sub)
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(
            f'<text x="4" y="{y + cell_h / 2 + 4:.0f}"><title>{escape(label)}</title>'
            f"{escape(short)}</text>"
        )
        for index, cell in enumerate(cells):
            fill, ink = TONES.get(cell.tone, TONES["none"])
            x = label_width + index * cell_w
            parts.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}" stroke="#767676" stroke-width="0.5"/>'
                f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 4:.0f}" '
                f'text-anchor="middle" fill="{ink}">{escape(cell_text(cell))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)


def distribution_svg(
    levels: Mapping[str, Sequence[int]], codes: Sequence[str], *, title: str
) -> Markup:
    """One horizontal bar per competence, split by level (0..8), counts printed in each
    segment wide enough to hold them."""
    rows = [code for code in codes if sum(levels.get(code, ())) > 0]
    if not rows:
        return Markup("")
    label_width, bar_width, bar_h, gap = 48, 520, 22, 6
    width, height = label_width + bar_width + 8, (bar_h + gap) * len(rows) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="distribution" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="12">'
    ]
    for row_index, code in enumerate(rows):
        counts = list(levels[code])
        total = sum(counts)
        y = 2 + row_index * (bar_h + gap)
        parts.append(
            f'<text x="0" y="{y + bar_h / 2 + 4:.0f}" font-weight="bold">{escape(code)}</text>'
        )
        x = float(label_width)
        for level, count in enumerate(counts[: MAX_LEVEL + 1]):
            if not count:
                continue
            segment = bar_width * count / total
            fill, ink = TONES[f"level-{level}"]
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{segment:.1f}" height="{bar_h}" '
                f'fill="{fill}" stroke="#767676" stroke-width="0.5"/>'
            )
            if segment >= 34:
                parts.append(
                    f'<text x="{x + segment / 2:.1f}" y="{y + bar_h / 2 + 4:.0f}" '
                    f'text-anchor="middle" fill="{ink}">N{level}: {count}</text>'
                )
            x += segment
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)
