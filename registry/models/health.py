"""Upstream health as each gateway worker saw it, one row per (minute, service, worker).

A worker upserts its row of the current minute every few seconds and at once when an upstream changes
state, so the row is at most seconds old; the counts are the minute's totals so far. Uptime of an API
for a day is the share of its rows that are `healthy` (registry/analytics/uptime.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base

__all__ = ["HealthSample"]


class HealthSample(Base):
    __tablename__ = "health_samples"
    __table_args__ = (
        UniqueConstraint("minute", "service", "worker", name="uq_health_samples_key"),
        Index("ix_health_samples_api_minute", "agency", "api", "minute"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(140))  # "agency.api.v1"
    agency: Mapped[str] = mapped_column(String(63))
    api: Mapped[str] = mapped_column(String(63))
    upstream: Mapped[str] = mapped_column(String(300))  # scheme://host:port, no credentials
    worker: Mapped[str] = mapped_column(String(80))  # host:pid
    probes: Mapped[int]
    probes_ok: Mapped[int]
    requests: Mapped[int]  # passive: calls that went to the upstream
    failures: Mapped[int]  # passive: connection errors, timeouts and 5xx
    circuit: Mapped[str] = mapped_column(String(9))  # closed, open or half-open, at the last update
    healthy: Mapped[bool]  # the minute so far: probes mostly fine and the circuit never opened
    updated_at: Mapped[datetime]
