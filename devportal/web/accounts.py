"""Who is signed in. The signed session cookie holds the account id only; the account is read from
the registry on each request, so a deleted account is signed out at once."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request

from agora.errors import Unauthorized
from devportal.web.csrf import FIELD
from registry.models import Developer

__all__ = ["current_developer", "require_developer", "sign_in", "sign_out", "signed_in_id"]

_KEY = "developer_id"


def signed_in_id(request: Request) -> int | None:
    value = request.session.get(_KEY)
    return value if isinstance(value, int) else None


def current_developer(request: Request, session: Session) -> Developer | None:
    developer_id = signed_in_id(request)
    developer = session.get(Developer, developer_id) if developer_id is not None else None
    if developer is None or developer.email_verified_at is None:
        return None
    return developer


def require_developer(request: Request, session: Session) -> Developer:
    developer = current_developer(request, session)
    if developer is None:
        raise Unauthorized("sign in to continue")
    return developer


def sign_in(request: Request, developer: Developer) -> None:
    # A fresh session (and CSRF token) at sign-in: a token planted before sign-in is worthless after.
    request.session.clear()
    request.session[_KEY] = developer.id


def sign_out(request: Request) -> None:
    request.session.pop(_KEY, None)
    request.session.pop(FIELD, None)
