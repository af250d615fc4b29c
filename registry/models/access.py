"""Access grants (application x API x plan) and their explicit state machine."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.api import Api
from registry.models.base import Base, created_at, intpk
from registry.models.developer import Application
from registry.models.plan import Plan

__all__ = ["TRANSITIONS", "AccessGrant", "GrantState"]


class GrantState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


# The only moves allowed. A refused or revoked application may ask again (back to pending),
# as DataPass lets a requester amend and resubmit.
TRANSITIONS: dict[GrantState, frozenset[GrantState]] = {
    GrantState.PENDING: frozenset({GrantState.APPROVED, GrantState.REFUSED}),
    GrantState.APPROVED: frozenset({GrantState.REVOKED}),
    GrantState.REFUSED: frozenset({GrantState.PENDING}),
    GrantState.REVOKED: frozenset({GrantState.PENDING}),
}


class AccessGrant(Base):
    __tablename__ = "access_grants"
    __table_args__ = (UniqueConstraint("application_id", "api_id", name="uq_access_grants_app_api"),)

    id: Mapped[intpk]
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    state: Mapped[GrantState] = mapped_column(
        Enum(
            GrantState, name="grant_state", native_enum=False, values_callable=lambda e: [m.value for m in e]
        )
    )
    justification: Mapped[str] = mapped_column(Text, default="")
    # For an API with personal data (issue 16), as DataPass asks: why the application reads it, and on
    # which of the API's declared legal bases (its `id`). Both are shown to the agency when it decides,
    # and copied into every access the gateway records.
    purpose: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[created_at]
    decided_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship(lazy="joined")
    api: Mapped[Api] = relationship(lazy="joined")
    plan: Mapped[Plan] = relationship(lazy="joined")
