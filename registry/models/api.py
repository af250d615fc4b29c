"""An API of an agency, and its versions (the spec verbatim plus what we derive from it)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.models.agency import Agency
from registry.models.base import Base, Json, created_at, intpk, slug

__all__ = ["AccessLevel", "Api", "ApiVersion", "VersionStatus"]


class AccessLevel(enum.StrEnum):
    OPEN = "open"  # no credential; limited per client IP
    KEY = "key"  # any registered application's key
    RESTRICTED = "restricted"  # a key plus an approved access grant


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: readable in SQL, portable across backends.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20)


class Api(Base):
    __tablename__ = "apis"
    __table_args__ = (UniqueConstraint("agency_id", "slug", name="uq_apis_agency_slug"),)

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    slug: Mapped[slug]
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    access_level: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel, "access_level"))
    created_at: Mapped[created_at]

    agency: Mapped[Agency] = relationship(lazy="joined")
    versions: Mapped[list[ApiVersion]] = relationship(
        back_populates="api", order_by="ApiVersion.id", cascade="all, delete-orphan"
    )


class ApiVersion(Base):
    __tablename__ = "api_versions"
    __table_args__ = (UniqueConstraint("api_id", "version", name="uq_api_versions_api_version"),)

    id: Mapped[intpk]
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))  # semver, e.g. "1.2.0"
    major: Mapped[int]
    spec_text: Mapped[str] = mapped_column(Text)  # verbatim, as the agency sent it
    spec_format: Mapped[str] = mapped_column(String(8))  # "json" | "yaml"
    spec_kind: Mapped[str] = mapped_column(String(16))  # "swagger-2.0" | "openapi-3.0" | "openapi-3.1"
    normalized: Mapped[dict[str, Any]] = mapped_column(Json)
    findings: Mapped[list[dict[str, str]]] = mapped_column(Json, default=list)
    upstream_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus, "version_status"))
    sunset_date: Mapped[date | None]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    changelog: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    published_at: Mapped[datetime | None]
    deprecated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

    api: Mapped[Api] = relationship(back_populates="versions")
