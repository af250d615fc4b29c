"""One row per request through the gateway, written in batches by usage metering."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base

__all__ = ["UsageRecord"]


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_api_at", "agency", "api", "at"),)

    # SQLite only autoincrements INTEGER PRIMARY KEY, not BIGINT.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)  # idempotent ingestion
    at: Mapped[datetime] = mapped_column(index=True)
    agency: Mapped[str] = mapped_column(String(63))
    api: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[str | None] = mapped_column(String(200))
    application_id: Mapped[str | None] = mapped_column(String(36), index=True)
    credential_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[int]
    latency_ms: Mapped[float]
    upstream_latency_ms: Mapped[float | None]
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    client_ip: Mapped[str | None] = mapped_column(String(45))  # truncated: /24 for IPv4, /48 for IPv6
