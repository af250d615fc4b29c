"""Agency memberships: which portal accounts (developers) administer which agencies.

An agency admin signs in to the developer portal like any developer; the membership is what opens
the agency console (pending access requests, decisions, traffic) for that agency's APIs only.
"""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.agency import Agency
from registry.models.base import Base, created_at, intpk
from registry.models.developer import Developer

__all__ = ["AgencyMembership", "MemberRole"]


class MemberRole(enum.StrEnum):
    ADMIN = "admin"  # decides access requests and sees traffic of the agency's APIs


class AgencyMembership(Base):
    __tablename__ = "agency_memberships"
    __table_args__ = (
        UniqueConstraint("developer_id", "agency_id", name="uq_agency_memberships_developer_agency"),
    )

    id: Mapped[intpk]
    developer_id: Mapped[int] = mapped_column(ForeignKey("developers.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(
        Enum(
            MemberRole,
            name="member_role",
            native_enum=False,
            values_callable=lambda e: [m.value for m in e],
            length=20,
        )
    )
    created_at: Mapped[created_at]

    developer: Mapped[Developer] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
