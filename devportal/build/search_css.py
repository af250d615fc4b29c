"""The search dialog's open state, re-aimed at the toolbar inside the service header.

mkdocs-material shows its search (results, overlay, wider box) with rules such as
`[data-md-toggle=search]:checked~.md-header .md-search__output`: its toolbar must be a sibling of the
`#__search` toggle. The portal puts that toolbar inside its service `<header>` (devportal.build.theme),
where those rules never match: the results stayed at zero height and transparent, and the keyboard's
focus went into them unseen. This module copies each such rule out of the installed (pinned) theme's
stylesheet, inside its `@media` blocks, with the sibling step going through the service header, so a
theme upgrade brings its own rules and only the re-aiming is ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import material  # type: ignore[import-untyped]

__all__ = ["OPEN", "search_open_css"]

OPEN = "[data-md-toggle=search]:checked~.md-header"
_AIMED = "[data-md-toggle=search]:checked~[data-service-header] .md-header"
_STYLESHEETS = Path(material.__file__).parent / "templates" / "assets" / "stylesheets"
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _blocks(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level block; `@charset`-like statements without a body are skipped.
    Quoted strings are honoured (a `{` in `content: "{"` opens nothing)."""
    start = depth = 0
    quote = ""
    prelude = ""
    for i, char in enumerate(css):
        if quote:
            quote = "" if char == quote and css[i - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                yield prelude, css[start:i]
                start = i + 1
        elif char == ";" and depth == 0:
            start = i + 1


def _selectors(prelude: str) -> list[str]:
    """A selector list split on its top-level commas (not those inside `:not(a,b)`)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return [part.strip() for part in parts]


def _reaimed(css: str) -> Iterator[str]:
    for prelude, body in _blocks(css):
        if prelude.startswith(("@media", "@supports")):
            inner = "".join(_reaimed(body))
            if inner:
                yield f"{prelude}{{{inner}}}"
        elif not prelude.startswith("@"):
            wanted = [s.replace(OPEN, _AIMED, 1) for s in _selectors(prelude) if s.startswith(OPEN)]
            if wanted:
                yield f"{','.join(wanted)}{{{body}}}"


def search_open_css(stylesheet: Path | None = None) -> str:
    """The theme's search-open rules for the portal's layout (the theme's main stylesheet by default)."""
    path = stylesheet or next(iter(sorted(_STYLESHEETS.glob("main.*.min.css"))))
    css = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    rules = "\n".join(_reaimed(css))
    return f"/* Derived from {path.name} by devportal/build/search_css.py: do not edit. */\n{rules}\n"
