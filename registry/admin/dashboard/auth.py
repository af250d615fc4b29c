"""Signing in to the dashboard. The token is posted once to a form; the signed session cookie then keeps
only the token's prefix (never the secret), and every request looks the token up again, so revoking it
ends its sessions at once. Forms carry a CSRF token kept in the session; the cookie is also
`SameSite=Strict` and scoped to `/admin/ui`.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError, Forbidden, Unauthorized
from registry.admin.context import context
from registry.models import AdminToken, Role
from registry.secrets import prefix_of
from registry.services.tokens import Principal, authenticate, principal_of
from registry.unit_of_work import read

__all__ = ["CSRF_FIELD", "check_csrf", "csrf_token", "routes", "ui_principal"]

CSRF_FIELD = "csrf_token"
_PREFIX_KEY = "admin_token_prefix"


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: object) -> None:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise Forbidden("the form has expired or did not come from this page: reload it and try again")


def ui_principal(request: Request) -> Principal | None:
    """The signed-in caller, or None (no session, or its token revoked since)."""
    prefix = request.session.get(_PREFIX_KEY)
    if not isinstance(prefix, str):
        return None
    with read(context(request).sessions) as session:
        token = session.scalar(select(AdminToken).where(AdminToken.prefix == prefix))
        if token is None or token.revoked_at is not None:
            return None
        if token.role is Role.USAGE_INGEST:  # sign-in refuses it; a session can still not carry one
            return None
        return principal_of(token)


def _authenticate(request: Request, token: str) -> None:
    ctx = context(request)
    with read(ctx.sessions) as session:
        authenticate(session, token, hmac_key=ctx.settings.hmac_key)


async def sign_in(request: Request) -> Response:
    form = await request.form()
    from registry.admin.dashboard.pages import render  # the page module imports this one

    try:
        check_csrf(request, form.get(CSRF_FIELD))
        value = form.get("token")
        if not isinstance(value, str) or not value.strip():
            raise Unauthorized("paste an admin token")
        await run_in_threadpool(_authenticate, request, value.strip())
    except AgoraError as exc:
        return render(request, "signin.html", status=exc.status, error=exc.detail)
    request.session.clear()  # a fresh session: nothing from before the sign-in carries over
    request.session[_PREFIX_KEY] = prefix_of(value.strip())
    return RedirectResponse("/admin/ui/", status_code=303)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form.get(CSRF_FIELD))
    request.session.clear()
    return RedirectResponse("/admin/ui/signin", status_code=303)


routes = [
    Route("/admin/ui/signin", sign_in, methods=["POST"]),
    Route("/admin/ui/signout", sign_out, methods=["POST"]),
]
