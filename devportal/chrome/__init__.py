"""The portal's chrome: one service header (identity, sign-in state, navigation by role) and one
footer (legal notice, accessibility statement, contact, open data) for every page kind.

The account pages render them per request, knowing who is signed in. The pages mkdocs builds and the
console are static: they get the signed-out header with the signed-in entries `hidden`, and
`account-state.js` asks `/account/api/me` who is there and shows what that role can use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from devportal.identity import Identity

__all__ = ["chrome_loader", "static_footer", "static_header"]


def chrome_loader() -> PackageLoader:
    return PackageLoader("devportal.chrome", "templates")


@cache
def _environment() -> Environment:
    return Environment(
        loader=chrome_loader(), autoescape=select_autoescape(["html"]), undefined=StrictUndefined
    )


def _render(name: str, identity: Identity, **values: Any) -> str:
    return _environment().get_template(name).render(identity=identity, **values)


def static_header(identity: Identity, *, open: bool = False) -> str:
    """The header of the static pages: signed-out state, signed-in entries hidden for the script.
    `open`: without its closing tag, for a theme that adds its own toolbar inside the same landmark."""
    return _render(
        "service_header.html", identity, user=None, is_admin=False, static=True, current="", open=open
    )


def static_footer(identity: Identity) -> str:
    return _render("service_footer.html", identity)
