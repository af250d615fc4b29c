"""The account pages' templates (Jinja2, autoescaped) and the values every page gets: the portal's
identity, who is signed in and whether they administer an agency (the navigation shows only what the
role can use), the section of the navigation the page belongs to, and the flashed messages."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse

from devportal.chrome import chrome_loader
from devportal.identity import load_identity
from devportal.web.csrf import FIELD, csrf_token
from registry.models import AgencyMembership

__all__ = ["flash", "render", "section"]

# path prefix -> the navigation entry marked current
_SECTIONS = (
    ("/account/apps", "apps"),
    ("/account/keys", "apps"),
    ("/account/access", "access"),
    ("/account/usage", "usage"),
    ("/agency-console", "agency-console"),
    ("/transparency", "transparency"),
)


@cache
def _environment() -> Environment:
    return Environment(
        loader=ChoiceLoader([PackageLoader("devportal.web", "templates"), chrome_loader()]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def section(path: str) -> str:
    return next((name for prefix, name in _SECTIONS if path.startswith(prefix)), "")


def flash(request: Request, text: str) -> None:
    request.session.setdefault("flash", []).append(text)


def _is_agency_admin(request: Request, user: Any) -> bool:
    if user is None:
        return False
    with request.app.state.portal.sessions() as session:
        found = session.scalar(select(AgencyMembership.id).where(AgencyMembership.developer_id == user.id))
        return found is not None


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
            is_admin=_is_agency_admin(request, user),
            static=False,
            current=section(request.url.path),
            identity=load_identity(),
            messages=messages,
            **values,
        )
    )
    return HTMLResponse(body, status_code=status)
