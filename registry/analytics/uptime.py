"""Upstream health read back from `health_samples`: each API's current state and its daily uptime.

Uptime of an API for a day = healthy samples / samples, over every (minute, service, worker) row of
its services that day. A sample is healthy when the worker's active probes mostly succeeded that minute
and its circuit breaker never opened (gateway/upstream/health.py), so both active checks and passive detection
count. Minutes in which no gateway ran have no samples and do not count either way.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.models import HealthSample, UsageRollup, utcnow

__all__ = ["FRESH", "current_health", "daily_figures", "daily_uptime"]

FRESH = timedelta(seconds=90)  # a worker that has not reported for this long is not counted as current


def current_health(
    session: Session, *, agencies: frozenset[str] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per service: healthy only if every worker that reported lately has its circuit closed."""
    now = now or utcnow()
    query = select(HealthSample).where(HealthSample.updated_at >= now - FRESH)
    if agencies is not None:
        query = query.where(HealthSample.agency.in_(sorted(agencies)))
    latest: dict[tuple[str, str], HealthSample] = {}
    for row in session.scalars(query.order_by(HealthSample.minute)):
        latest[(row.service, row.worker)] = row  # ordered by minute: the last one wins
    services: dict[str, dict[str, Any]] = {}
    for (service, _worker), row in sorted(latest.items()):
        entry = services.setdefault(
            service,
            {"service": service, "agency": row.agency, "api": row.api, "upstream": row.upstream,
             "healthy": True, "circuit": "closed", "workers": 0, "updated_at": row.updated_at},
        )  # fmt: skip
        entry["workers"] += 1
        entry["healthy"] = entry["healthy"] and row.circuit == "closed"
        if row.circuit != "closed" and entry["circuit"] != "open":
            entry["circuit"] = row.circuit
        entry["updated_at"] = max(entry["updated_at"], row.updated_at)
    return [{**e, "updated_at": e["updated_at"].isoformat()} for _, e in sorted(services.items())]


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def daily_uptime(
    session: Session, *, start: date, end: date, agencies: frozenset[str] | None = None
) -> dict[tuple[str, str, str], float]:
    """(day, agency, api) -> uptime in percent, for days in [start, end)."""
    lower = datetime(start.year, start.month, start.day, tzinfo=utcnow().tzinfo)
    upper = lower + timedelta(days=(end - start).days)
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", HealthSample.minute))
    else:
        day = func.date(HealthSample.minute)
    healthy = func.count().filter(HealthSample.healthy.is_(True))
    query = (
        select(day, HealthSample.agency, HealthSample.api, func.count(), healthy)
        .where(HealthSample.minute >= lower, HealthSample.minute < upper)
        .group_by(day, HealthSample.agency, HealthSample.api)
    )
    if agencies is not None:
        query = query.where(HealthSample.agency.in_(sorted(agencies)))
    return {
        (_day(d), agency, api): round(100.0 * int(ok or 0) / int(n), 3)
        for d, agency, api, n, ok in session.execute(query)
        if n
    }


def daily_figures(session: Session, *, days: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """The public figures: per day and API, calls, server errors and uptime. No application, no address:
    nothing that tells who called."""
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    calls: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    rollup = UsageRollup
    rows = session.execute(
        select(rollup.bucket, rollup.agency, rollup.api, rollup.status_class, rollup.calls).where(
            rollup.granularity == "day", rollup.bucket >= first
        )
    )
    for bucket, agency, api, status_class, count in rows:
        entry = calls[(bucket.date().isoformat(), agency, api)]
        entry[0] += count
        entry[1] += count if status_class == 5 else 0
    uptime = daily_uptime(session, start=first.date(), end=now.date() + timedelta(days=1))
    keys = sorted(set(calls) | set(uptime))
    out = []
    for key in keys:
        total, errors = calls.get(key, (0, 0))
        out.append({"day": key[0], "agency": key[1], "api": key[2], "calls": total, "server_errors": errors,
                    "uptime_percent": uptime.get(key)})  # fmt: skip
    return out
