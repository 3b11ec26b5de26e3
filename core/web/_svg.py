"""Charts drawn on the server as SVG: readable without JavaScript, no library, no CDN.

Every chart has a text alternative (``aria-label`` and ``<title>`` per bar) and the page
shows the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["COVERAGE_COLOURS", "Tile", "bar_chart", "coverage_class", "tile_map"]

#: Bar colour with at least 4.5:1 contrast against white (WCAG AA for graphics and text).
BAR = "#1d5b8f"

#: Fill and text colour of each coverage class: the stylesheet's ``.cov-*`` colours (the
#: legend and the tiles), each pair at least 4.5:1 (WCAG AA).
COVERAGE_COLOURS = {
    "cov-none": ("#e2e8f0", "#1e293b"),
    "cov-0": ("#f1f5f9", "#0f172a"),
    "cov-1": ("#c6dbef", "#0f172a"),
    "cov-2": ("#2a6ea6", "#ffffff"),
    "cov-3": ("#174a7c", "#ffffff"),
    "cov-4": ("#08306b", "#ffffff"),
}


def coverage_class(share: float | None) -> str:
    """The CSS class of a coverage tile: ``cov-none`` or ``cov-0`` (lightest) to ``cov-4``
    (classes, not inline styles: the pages' Content-Security-Policy forbids those)."""
    if share is None:
        return "cov-none"
    return f"cov-{sum(1 for s in (0.05, 0.15, 0.30, 0.50) if share >= s)}"


@dataclass(frozen=True, slots=True)
class Tile:
    """One square of a tile map: where it sits (column, row), a short label drawn in it,
    the full name (tooltip and screen readers), the figure shown under the label, the share
    that picks its colour, and the page it links to."""

    column: int
    row: int
    short: str
    name: str
    figure: str
    share: float | None
    href: str


def tile_map(tiles: Sequence[Tile], *, title: str, size: int = 56) -> str:
    """Squares on a grid, coloured by ``coverage_class`` of their share, each a link (SVG
    links work without JavaScript). Place the squares roughly where the places lie and the
    grid reads as a map; the page keeps the same figures in a table."""
    gap = 4
    step = size + gap
    columns = max((t.column for t in tiles), default=0) + 1
    rows = max((t.row for t in tiles), default=0) + 1
    width, height = columns * step + gap, rows * step + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="map" preserveAspectRatio="xMinYMin">',
        f"<title>{escape(title)}</title>",
    ]
    for tile in tiles:
        fill, ink = COVERAGE_COLOURS[coverage_class(tile.share)]
        x, y = gap + tile.column * step, gap + tile.row * step
        label = f"{tile.name}: {tile.figure}"
        parts.append(
            f'<a href="{escape(tile.href)}" aria-label="{escape(label)}">'
            f"<title>{escape(label)}</title>"
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="6" fill="{fill}" '
            f'stroke="#64748b" stroke-width="1"/>'
            f'<text x="{x + size / 2:g}" y="{y + size * 0.45:g}" text-anchor="middle" '
            f'font-size="{size * 0.3:g}" font-weight="700" fill="{ink}">{escape(tile.short)}</text>'
            f'<text x="{x + size / 2:g}" y="{y + size * 0.8:g}" text-anchor="middle" '
            f'font-size="{size * 0.22:g}" fill="{ink}">{escape(tile.figure)}</text>'
            "</a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    value_label: Sequence[str] | None = None,
    width: int = 480,
) -> str:
    """Horizontal bars, one per ``(label, value)``; ``value_label`` is the text shown at
    each bar's end (defaults to the value). The SVG scales down to a 360-px phone."""
    bar_height, gap, label_width = 24, 8, min(170, width // 3)
    height = max(1, len(rows)) * (bar_height + gap) + gap
    top = max((v for _, v in rows), default=0) or 1
    usable = width - label_width - 110  # room for the value after the longest bar
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart" preserveAspectRatio="xMinYMin">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        length = max(0.0, value / top * usable)
        shown = value_label[i] if value_label is not None else f"{value:g}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.72:.1f}" text-anchor="end" '
            f'font-size="15" fill="#0f172a">{escape(_short(label, 20))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{BAR}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height * 0.72:.1f}" '
            f'font-size="15" fill="#0f172a">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
