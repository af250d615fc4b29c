"""The account pages' templates (Jinja2, autoescaped) and the values every page gets."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from devportal.web.csrf import FIELD, csrf_token

__all__ = ["flash", "render"]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("devportal.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def flash(request: Request, text: str) -> None:
    request.session.setdefault("flash", []).append(text)


def render(
    request: Request, template: str, *, status: int = 200, user: Any = None, **values: Any
) -> HTMLResponse:
    # The 500 handler runs outside the session middleware: no session, no forms on that page.
    has_session = "session" in request.scope
    messages = request.session.pop("flash", []) if has_session else []
    body = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            csrf_field=FIELD,
            csrf_token=csrf_token(request) if has_session else "",
            user=user,
            messages=messages,
            **values,
        )
    )
    return HTMLResponse(body, status_code=status)
