"""Reading rollups back: grouping, scoping to agencies, percentiles merged across buckets, top
applications; retention; daily uptime and the public figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput
from registry.analytics import queries
from registry.analytics.retention import Retention, prune
from registry.analytics.rollup import rollup
from registry.analytics.uptime import current_health, daily_figures
from registry.models import HealthSample, UsageRecord, UsageRollup
from tests.registry.analytics.helpers import insert, raw

NOW = datetime(2026, 11, 20, 12, 30, 0, tzinfo=UTC)
HOUR = datetime(2026, 11, 20, 11, 0, 0, tzinfo=UTC)


@pytest.fixture
def loaded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    rows = []
    for minute in range(3):  # latencies 1..100 ms spread over three minutes: p50 merges across them
        at = HOUR + timedelta(minutes=minute)
        rows += [raw(at + timedelta(seconds=i % 60), latency=(minute * 100 + i + 1) / 3) for i in range(100)]
    rows += [raw(HOUR, agency="meteo", api="warnings", application_id="app-2", status=500) for _ in range(4)]
    rows += [raw(HOUR, status=429, application_id="app-3")]
    with sessions.begin() as session:
        insert(session, rows)
        rollup(session, now=NOW)
    return sessions


def test_grouping_and_percentiles(loaded: sessionmaker[Session]) -> None:
    with loaded() as session:
        by_api = queries.usage(session, granularity="minute", start=HOUR, end=NOW, group_by=["agency", "api"])
        by_hour = queries.usage(session, granularity="hour", start=HOUR, end=NOW, group_by=["api"])
    cadastre, meteo = by_api
    assert (cadastre["agency"], cadastre["calls"], cadastre["errors"], cadastre["rate_limited"]) == (
        "cadastre", 301, 0, 1,
    )  # fmt: skip
    assert (meteo["calls"], meteo["errors"], meteo["error_rate"]) == (4, 4, 1.0)
    # exact median of 300 latencies (1..300)/3 plus the 429's 10 ms is ~50 ms; buckets are within 4.5%
    assert cadastre["latency_p50_ms"] == pytest.approx(50.0, rel=0.05)
    assert cadastre["latency_p99_ms"] == pytest.approx(99.0, rel=0.05)
    assert by_hour[0]["latency_p95_ms"] == cadastre["latency_p95_ms"]  # hour rows merge to the same


def test_scope_limits_to_agencies(loaded: sessionmaker[Session]) -> None:
    scope = queries.Scope(agencies=frozenset({"meteo"}))
    with loaded() as session:
        rows = queries.usage(session, granularity="day", start=HOUR - timedelta(days=1), end=NOW,
                             group_by=["agency"], scope=scope)  # fmt: skip
        top = queries.top_applications(session, granularity="hour", start=HOUR, end=NOW, scope=scope)
        everyone = queries.top_applications(session, granularity="hour", start=HOUR, end=NOW)
    assert [r["agency"] for r in rows] == ["meteo"]
    assert [(t["application"], t["calls"]) for t in top] == [("app-2", 4)]
    assert [t["application"] for t in everyone] == ["app-1", "app-2", "app-3"]


def test_bad_queries_are_refused(loaded: sessionmaker[Session]) -> None:
    with loaded() as session, pytest.raises(InvalidInput, match="group by"):
        queries.usage(session, granularity="hour", start=HOUR, end=NOW, group_by=["client_ip"])
    with loaded() as session, pytest.raises(InvalidInput, match="granularity"):
        queries.usage(session, granularity="week", start=HOUR, end=NOW)


def test_retention_prunes_raw_records_and_fine_rollups(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as session:
        result = prune(
            session, Retention(raw_days=1, minute_days=1, hour_days=3), now=NOW + timedelta(days=2)
        )
    assert result.records == 305 and result.minute_rows > 0 and result.hour_rows == 0
    with loaded() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 0
        kinds = set(session.scalars(select(UsageRollup.granularity).distinct()))
    assert kinds == {"hour", "day"}
    with pytest.raises(InvalidInput):
        Retention.from_env({"AGORA_USAGE_RETENTION_DAYS": "ninety"})
    assert Retention.from_env({"AGORA_USAGE_RETENTION_DAYS": "30"}).raw_days == 30


def _sample(minute: datetime, worker: str, healthy: bool, circuit: str = "closed") -> HealthSample:
    return HealthSample(
        minute=minute, service="cadastre.addresses.v1", agency="cadastre", api="addresses",
        upstream="http://127.0.0.1:9101", worker=worker, probes=12, probes_ok=12 if healthy else 0,
        requests=0, failures=0, circuit=circuit, healthy=healthy, updated_at=minute + timedelta(seconds=55),
    )  # fmt: skip


def test_uptime_and_public_figures(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as session:
        for i in range(4):  # two workers, 4 minutes, one unhealthy sample of 8: 87.5%
            session.add(_sample(HOUR + timedelta(minutes=i), "w1", True))
            session.add(_sample(HOUR + timedelta(minutes=i), "w2", i != 3, "open" if i == 3 else "closed"))
    with loaded() as session:
        figures = daily_figures(session, days=2, now=NOW)
        health = current_health(session, now=HOUR + timedelta(minutes=3, seconds=58))
    today = {(f["agency"], f["api"]): f for f in figures if f["day"] == "2026-11-20"}
    assert today[("cadastre", "addresses")]["calls"] == 301
    assert today[("cadastre", "addresses")]["uptime_percent"] == 87.5
    assert today[("meteo", "warnings")] == {
        "day": "2026-11-20", "agency": "meteo", "api": "warnings", "calls": 4, "server_errors": 4,
        "uptime_percent": None,
    }  # fmt: skip
    assert set(figures[0]) == {"day", "agency", "api", "calls", "server_errors", "uptime_percent"}
    assert [(h["service"], h["healthy"], h["circuit"], h["workers"]) for h in health] == [
        ("cadastre.addresses.v1", False, "open", 2)
    ]
