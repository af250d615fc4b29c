"""Overrides of mkdocs-material's templates (its `custom_dir`), for the portal's design and for
accessibility (axe-core, WCAG 2.1 AA). The theme is themed, not forked:

- `partials/header.html`: the portal's service header (devportal.chrome, the same as on the account
  pages), with Material's own header inside it as the page's toolbar (menu, page title, search), turned
  from a second `<header>` landmark into a plain block (Material's script looks for its search button
  inside a `header`, which it still is);
- `partials/footer.html`: the portal's service footer instead of "Made with Material for MkDocs";
- `partials/search.html`: the search dialog gets an accessible name (its open state, whose rules expect
  the toolbar outside any header, is re-aimed by devportal.build.search_css).

Derived at build time from the installed (pinned) theme's own partials, so an upgrade of the theme
keeps its markup and only the changes are ours.
"""

from __future__ import annotations

from pathlib import Path

import material  # type: ignore[import-untyped]

from devportal.chrome import static_footer, static_header
from devportal.identity import Identity

__all__ = ["overrides"]

_PARTIALS = Path(material.__file__).parent / "templates" / "partials"


def _raw(html: str) -> str:
    """Static HTML inside a theme template: Jinja must not read the identity's text as syntax."""
    return "{% raw %}" + html.replace("{% endraw %}", "") + "{% endraw %}"


def _toolbar() -> str:
    header = (_PARTIALS / "header.html").read_text(encoding="utf-8")
    header = header.replace('<header class="{{ class }}"', '<div class="{{ class }} portal-toolbar"', 1)
    header = header.replace("</header>", "</div>", 1)
    return header.replace("aria-label=\"{{ lang.t('header') }}\"", 'aria-label="Page tools"', 1)


def overrides(identity: Identity) -> dict[str, str]:
    """Relative path under the theme's custom_dir -> template text."""
    search = (_PARTIALS / "search.html").read_text(encoding="utf-8")
    # The search overlay is a dialog; a dialog needs an accessible name (axe: aria-dialog-name).
    search = search.replace('role="dialog">', 'role="dialog" aria-label="Search the portal">', 1)
    return {
        "partials/search.html": search,
        "partials/header.html": _raw(static_header(identity, open=True)) + "\n" + _toolbar() + "\n</header>",
        "partials/footer.html": _raw(static_footer(identity)),
    }
