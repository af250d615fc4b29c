"""Overrides of mkdocs-material's templates, for accessibility (axe-core, WCAG 2.1 AA).

Derived at build time from the installed (pinned) theme's own partials, so an upgrade of the theme
keeps its markup and only the fix is ours.
"""

from __future__ import annotations

from pathlib import Path

import material  # type: ignore[import-untyped]

__all__ = ["overrides"]

_PARTIALS = Path(material.__file__).parent / "templates" / "partials"


def overrides() -> dict[str, str]:
    """Relative path under the theme's custom_dir -> template text."""
    search = (_PARTIALS / "search.html").read_text(encoding="utf-8")
    # The search overlay is a dialog; a dialog needs an accessible name (axe: aria-dialog-name).
    search = search.replace('role="dialog">', 'role="dialog" aria-label="Search the portal">', 1)
    return {"partials/search.html": search}
