"""Server-side portal sessions (see `registry.models.portal_session`): opened at sign-in, looked up on
every request, closed at sign-out, all closed at a password reset."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from registry.models import Developer, PortalSession, utcnow

__all__ = ["close", "close_all", "developer_of", "open_session"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, developer: Developer, *, lifetime: timedelta) -> str:
    """A new session of `developer`; returns the token the cookie carries (never stored as is)."""
    now = utcnow()
    session.execute(
        delete(PortalSession).where(
            PortalSession.developer_id == developer.id, PortalSession.expires_at < now
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(PortalSession(token_sha256=_digest(token), developer=developer, expires_at=now + lifetime))
    session.flush()
    return token


def developer_of(session: Session, token: str) -> Developer | None:
    row = session.get(PortalSession, _digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    return row.developer


def close(session: Session, token: str) -> None:
    session.execute(delete(PortalSession).where(PortalSession.token_sha256 == _digest(token)))


def close_all(session: Session, developer: Developer) -> None:
    session.execute(delete(PortalSession).where(PortalSession.developer_id == developer.id))
