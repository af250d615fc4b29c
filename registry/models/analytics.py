"""Usage rollups: the raw `usage_records` summed per minute, hour and day, with a latency histogram.

One row per (granularity, bucket start, agency, api, version, operation, application, status class).
`operation_id` and `application_id` are "" (not NULL) when absent, so the unique key holds on every
backend (NULLs never collide in a UNIQUE constraint). `latency_hist` is a sparse map from bucket index
(registry/analytics/histogram.py: fixed log-spaced buckets) to count, so percentiles of any set of rows
are computed by adding their maps: exact counts, a bounded relative error on the latency value.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, Json

__all__ = ["GRANULARITIES", "RollupState", "UsageRollup"]

GRANULARITIES = ("minute", "hour", "day")


class UsageRollup(Base):
    __tablename__ = "usage_rollups"
    __table_args__ = (
        UniqueConstraint(
            "granularity",
            "bucket",
            "agency",
            "api",
            "version",
            "operation_id",
            "application_id",
            "status_class",
            name="uq_usage_rollups_key",
        ),
        Index("ix_usage_rollups_api_bucket", "granularity", "agency", "api", "bucket"),
        Index("ix_usage_rollups_bucket", "granularity", "bucket"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    granularity: Mapped[str] = mapped_column(String(6))
    bucket: Mapped[datetime]  # start of the minute, hour or day (UTC)
    agency: Mapped[str] = mapped_column(String(63))
    api: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[str] = mapped_column(String(200))
    application_id: Mapped[str] = mapped_column(String(36))
    status_class: Mapped[int] = mapped_column(SmallInteger)  # 2 for 2xx ... 5 for 5xx
    calls: Mapped[int] = mapped_column(BigInteger)
    rate_limited: Mapped[int] = mapped_column(BigInteger)  # 429 answers
    auth_failed: Mapped[int] = mapped_column(BigInteger)  # 401 and 403 answers
    latency_sum_ms: Mapped[float] = mapped_column(Float)
    latency_max_ms: Mapped[float] = mapped_column(Float)
    upstream_calls: Mapped[int] = mapped_column(BigInteger)  # calls that reached the upstream
    upstream_sum_ms: Mapped[float] = mapped_column(Float)
    bytes_in: Mapped[int] = mapped_column(BigInteger)
    bytes_out: Mapped[int] = mapped_column(BigInteger)
    latency_hist: Mapped[dict[str, int]] = mapped_column(Json)


class RollupState(Base):
    """Where the rollup job stopped: the last raw record id it has folded in. One row ("usage")."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_record_id: Mapped[int] = mapped_column(BigInteger)
    ran_at: Mapped[datetime | None]
