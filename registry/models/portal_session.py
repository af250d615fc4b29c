"""Portal sign-in sessions, kept server-side so that signing out ends them.

The portal's signed cookie holds a random token; the registry keeps only its SHA-256 (a stolen
database does not yield live cookies). A cookie whose row is gone or expired signs nobody in, so a
copied cookie stops working at sign-out, at a password reset and when the account is deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.base import Base, UTCDateTime, created_at
from registry.models.developer import Developer

__all__ = ["PortalSession"]


class PortalSession(Base):
    __tablename__ = "portal_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    developer_id: Mapped[int] = mapped_column(ForeignKey("developers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    developer: Mapped[Developer] = relationship(lazy="joined")
