"""Calls per day from usage_records, for applications and for an agency, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from registry.models import UsageRecord, utcnow
from registry.services import usage_stats
from registry.unit_of_work import change


def _row(n: int, app: str, api: str = "companies", status: int = 200, days_ago: int = 0) -> UsageRecord:
    return UsageRecord(
        request_id=f"r{n}",
        at=utcnow() - timedelta(days=days_ago),
        agency="commerce",
        api=api,
        version="1.0.0",
        application_id=app,
        status=status,
        latency_ms=10.0 * (n + 1),
    )


def test_daily_calls_per_application_and_agency(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        session.add_all(
            [
                _row(0, "a"),
                _row(1, "a", status=503),
                _row(2, "b"),
                _row(3, "a", days_ago=2),
                _row(4, "a", days_ago=40),
                _row(5, "a", api="filings"),
            ]
        )
    today = utcnow().date()
    with sessions() as session:
        rows = usage_stats.application_usage(session, ["a"])
        assert [(r.day, r.key, r.api, r.calls, r.errors) for r in rows] == [
            ((today - timedelta(days=2)).isoformat(), "a", "companies", 1, 0),
            (today.isoformat(), "a", "companies", 2, 1),
            (today.isoformat(), "a", "filings", 1, 0),
        ]
        assert rows[1].mean_latency_ms == 15.0
        assert usage_stats.application_usage(session, []) == []
        traffic = usage_stats.agency_traffic(session, "commerce")
        assert sum(r.calls for r in traffic) == 5 and {r.key for r in traffic} == {"companies", "filings"}
