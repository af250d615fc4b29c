"""Developers, their applications, and the applications' credentials (API keys)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.base import Base, created_at, intpk, uuidpk

__all__ = ["Application", "Credential", "Developer"]


class Developer(Base):
    __tablename__ = "developers"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[created_at]


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[uuidpk]
    developer_id: Mapped[int] = mapped_column(ForeignKey("developers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The body the application acts for (a company, an agency, a charity), shown to the people whose
    # data it reads (issue 16); empty for a developer's own project.
    organisation: Mapped[str] = mapped_column(String(200), default="")
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    created_at: Mapped[created_at]

    developer: Mapped[Developer] = relationship(lazy="joined")
    credentials: Mapped[list[Credential]] = relationship(
        back_populates="application", order_by="Credential.created_at", cascade="all, delete-orphan"
    )


class Credential(Base):
    """An API key. Only its prefix and an HMAC-SHA256 digest are stored; the secret is shown once."""

    __tablename__ = "credentials"

    id: Mapped[uuidpk]
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    sandbox: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    # Set on the new key of a rotation; the old key keeps working until its `expires_at` (the overlap).
    rotated_from_id: Mapped[str | None] = mapped_column(ForeignKey("credentials.id", ondelete="SET NULL"))

    application: Mapped[Application] = relationship(back_populates="credentials")
