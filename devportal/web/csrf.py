"""CSRF protection: one random token per session, put in every form, compared on every POST.

The session cookie is also `SameSite=Lax`; the token covers what that does not (older browsers,
same-site subdomains)."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

from agora.errors import Forbidden

__all__ = ["FIELD", "HEADER", "check_csrf", "csrf_token"]

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    token = request.session.get(FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    expected = request.session.get(FIELD)
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again")
