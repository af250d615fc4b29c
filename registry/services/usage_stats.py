"""Usage read back from `usage_records` (written by the gateway's metering): calls per day, for a
developer's applications (the portal's usage page) and for an agency's APIs (the agency console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.models import UsageRecord, utcnow

__all__ = ["DailyCalls", "agency_traffic", "application_usage", "since_days"]


@dataclass(frozen=True, slots=True)
class DailyCalls:
    day: str  # ISO date, UTC
    key: str  # application id, or API slug
    agency: str
    api: str
    calls: int
    errors: int  # 5xx answers
    mean_latency_ms: float


def since_days(days: int) -> datetime:
    start = utcnow().date() - timedelta(days=days - 1)
    return utcnow().replace(year=start.year, month=start.month, day=start.day, hour=0, minute=0, second=0)


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _daily(session: Session, key_column: Any, *filters: Any) -> list[DailyCalls]:
    # The UTC calendar day: SQLite stores ISO text (date() cuts it); PostgreSQL converts from timestamptz.
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", UsageRecord.at))
    else:
        day = func.date(UsageRecord.at)
    five_xx = func.count().filter(UsageRecord.status >= 500)
    query = (
        select(
            day,
            key_column,
            UsageRecord.agency,
            UsageRecord.api,
            func.count(),
            five_xx,
            func.avg(UsageRecord.latency_ms),
        )
        .where(*filters)
        .group_by(day, key_column, UsageRecord.agency, UsageRecord.api)
        .order_by(day, key_column, UsageRecord.agency, UsageRecord.api)
    )
    return [
        DailyCalls(_day(d), str(k), a, p, int(n), int(e or 0), round(float(lat or 0.0), 1))
        for d, k, a, p, n, e, lat in session.execute(query)
    ]


def application_usage(session: Session, application_ids: list[str], *, days: int = 30) -> list[DailyCalls]:
    if not application_ids:
        return []
    return _daily(
        session,
        UsageRecord.application_id,
        UsageRecord.application_id.in_(application_ids),
        UsageRecord.at >= since_days(days),
    )


def agency_traffic(session: Session, agency_slug: str, *, days: int = 30) -> list[DailyCalls]:
    return _daily(
        session, UsageRecord.api, UsageRecord.agency == agency_slug, UsageRecord.at >= since_days(days)
    )
