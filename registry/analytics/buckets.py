"""Bucket arithmetic shared by the rollup job and the queries: truncating instants, one row's sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from registry.analytics import histogram

__all__ = ["STEP", "Sums", "floor", "status_class"]

STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def floor(at: datetime, granularity: str) -> datetime:
    at = at.astimezone(UTC)
    if granularity == "minute":
        return at.replace(second=0, microsecond=0)
    if granularity == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def status_class(status: int) -> int:
    return status // 100


@dataclass(slots=True)
class Sums:
    """The additive part of a rollup row: raw records and rollup rows both fold into it."""

    calls: int = 0
    rate_limited: int = 0
    auth_failed: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    upstream_calls: int = 0
    upstream_sum_ms: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0
    latency_hist: dict[str, int] = field(default_factory=dict)

    def add_record(self, status: int, latency: float, upstream: float | None, b_in: int, b_out: int) -> None:
        self.calls += 1
        self.rate_limited += status == 429
        self.auth_failed += status in (401, 403)
        self.latency_sum_ms += latency
        self.latency_max_ms = max(self.latency_max_ms, latency)
        if upstream is not None:
            self.upstream_calls += 1
            self.upstream_sum_ms += upstream
        self.bytes_in += b_in
        self.bytes_out += b_out
        histogram.add(self.latency_hist, latency)

    def add_row(self, row: Any) -> None:
        """`row` is a UsageRollup (or anything with its columns)."""
        self.calls += row.calls
        self.rate_limited += row.rate_limited
        self.auth_failed += row.auth_failed
        self.latency_sum_ms += row.latency_sum_ms
        self.latency_max_ms = max(self.latency_max_ms, row.latency_max_ms)
        self.upstream_calls += row.upstream_calls
        self.upstream_sum_ms += row.upstream_sum_ms
        self.bytes_in += row.bytes_in
        self.bytes_out += row.bytes_out
        for key, count in row.latency_hist.items():
            self.latency_hist[key] = self.latency_hist.get(key, 0) + count

    def columns(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "rate_limited": self.rate_limited,
            "auth_failed": self.auth_failed,
            "latency_sum_ms": round(self.latency_sum_ms, 3),
            "latency_max_ms": round(self.latency_max_ms, 3),
            "upstream_calls": self.upstream_calls,
            "upstream_sum_ms": round(self.upstream_sum_ms, 3),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "latency_hist": dict(self.latency_hist),
        }
