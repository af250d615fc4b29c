"""Admin API tokens (stored hashed) and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.agency import Agency
from registry.models.base import Base, created_at, intpk

__all__ = ["AdminToken", "Role"]


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform-admin"  # everything
    AGENCY_ADMIN = "agency-admin"  # read and change its own agencies' APIs, plans and grants
    OPS = "ops"  # read-only, everything
    # Posts usage records and accesses to personal data, nothing else, not even reads: the credential a
    # Kong data plane holds (docs/kong.md). Fits the column as created (VARCHAR of the longest value, no
    # CHECK): no migration.
    USAGE_INGEST = "usage-ingest"


admin_token_agencies = Table(
    "admin_token_agencies",
    Base.metadata,
    Column("token_id", ForeignKey("admin_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
)


class AdminToken(Base):
    __tablename__ = "admin_tokens"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="admin_role", native_enum=False, values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None]

    agencies: Mapped[list[Agency]] = relationship(secondary=admin_token_agencies, lazy="selectin")
