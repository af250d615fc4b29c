"""The uptime badge: a small SVG in the familiar two-part shape ("uptime 30d | 99.98%"), drawn here so
no third-party badge service learns who reads the portal. Text is escaped; widths are estimated from
character counts (Verdana 11px averages ~7 px), which is what such badges do."""

from __future__ import annotations

from html import escape

__all__ = ["badge_color", "uptime_badge"]


def badge_color(percent: float | None) -> str:
    if percent is None:
        return "#767676"  # no samples yet
    if percent >= 99.9:
        return "#18753c"
    if percent >= 99.0:
        return "#8a6d00"
    return "#b3261e"


def uptime_badge(percent: float | None, label: str = "uptime 30d") -> str:
    value = "no data" if percent is None else f"{percent:.2f}%"
    left, right = 7 * len(label) + 12, 7 * len(value) + 12
    total = left + right
    color = badge_color(percent)
    title = escape(f"{label}: {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(value)}</text></g></svg>'
    )
