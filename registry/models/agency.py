"""A public agency: the owner of APIs and plans."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, created_at, intpk, slug

__all__ = ["Agency"]


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[intpk]
    slug: Mapped[slug] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[created_at]
