"""Who is signed in. The signed session cookie holds a random session token only; the session lives in
the registry (`registry.services.portal_sessions`), so signing out, a password reset or a deleted
account ends it at once, and a copied cookie is worth nothing afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.requests import Request

from agora.errors import Unauthorized
from registry.models import Developer
from registry.services import portal_sessions

__all__ = ["SESSION_HOURS", "current_developer", "require_developer", "sign_in", "sign_out"]

SESSION_HOURS = 8
_KEY = "session"


def _token(request: Request) -> str | None:
    value = request.session.get(_KEY)
    return value if isinstance(value, str) else None


def current_developer(request: Request, session: Session) -> Developer | None:
    token = _token(request)
    developer = portal_sessions.developer_of(session, token) if token is not None else None
    if developer is None or developer.email_verified_at is None:
        return None
    return developer


def require_developer(request: Request, session: Session) -> Developer:
    developer = current_developer(request, session)
    if developer is None:
        raise Unauthorized("sign in to continue")
    return developer


def sign_in(request: Request, session: Session, developer: Developer) -> None:
    """Opens a server-side session in `session`'s transaction. A fresh cookie (and CSRF token) at
    sign-in: a token planted before sign-in is worthless after."""
    token = portal_sessions.open_session(session, developer, lifetime=timedelta(hours=SESSION_HOURS))
    request.session.clear()
    request.session[_KEY] = token


def sign_out(request: Request, session: Session) -> None:
    """Closes the server-side session: the cookie, wherever it was copied, signs nobody in again."""
    token = _token(request)
    if token is not None:
        portal_sessions.close(session, token)
    request.session.clear()
