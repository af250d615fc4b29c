"""The dashboard's pages: sign-in and the overview. The overview is rendered empty of figures; its
script fills it from `data.py` and refreshes it every few seconds, so the page is never reloaded.

Every UI answer carries a strict Content Security Policy (scripts and styles from this origin only, no
inline script), and is never cached or framed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from registry.admin.dashboard.auth import CSRF_FIELD, csrf_token, ui_principal
from registry.admin.dashboard.data import WINDOWS

__all__ = ["UI_HEADERS", "render", "routes"]

UI_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("registry.admin.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    body = (
        _environment()
        .get_template(template)
        .render(csrf_field=CSRF_FIELD, csrf_token=csrf_token(request), **values)
    )
    return HTMLResponse(body, status_code=status, headers=UI_HEADERS)


def signin_page(request: Request) -> Response:
    return render(request, "signin.html", error=None)


def overview(request: Request) -> Response:
    who = ui_principal(request)
    if who is None:
        return RedirectResponse("/admin/ui/signin", status_code=303)
    return render(
        request,
        "overview.html",
        who=who,
        scoped=who.agency_ids is not None,
        windows=list(WINDOWS),
    )


routes = [
    Route("/admin/ui/", overview, methods=["GET"]),
    Route("/admin/ui/signin", signin_page, methods=["GET"]),
]
