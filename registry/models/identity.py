"""External identities: a developer account linked to an OpenID Provider's subject.

The pair (issuer, subject) is what OpenID Connect guarantees stable; an email address can change
or be reassigned at the provider, so it only links an identity the first time.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.base import Base, created_at, intpk
from registry.models.developer import Developer

__all__ = ["ExternalIdentity"]


class ExternalIdentity(Base):
    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_external_identities_issuer_subject"),)

    id: Mapped[intpk]
    developer_id: Mapped[int] = mapped_column(ForeignKey("developers.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[created_at]

    developer: Mapped[Developer] = relationship(lazy="joined")
