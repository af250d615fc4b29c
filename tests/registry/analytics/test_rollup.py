"""The rollup job on SQLite and PostgreSQL: minute, hour and day rows from raw records; rebuilt whole
(idempotent); late records picked up; hours of pruned minutes left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry.analytics.rollup import rollup
from registry.models import UsageRollup
from tests.registry.analytics.helpers import insert, raw

NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)


def _rows(session: Session, granularity: str) -> list[UsageRollup]:
    query = select(UsageRollup).where(UsageRollup.granularity == granularity).order_by(UsageRollup.id)
    return list(session.scalars(query))


def _calls(session: Session, granularity: str) -> int:
    total = session.scalar(select(func.sum(UsageRollup.calls)).where(UsageRollup.granularity == granularity))
    return int(total or 0)


def test_minutes_hours_days_and_idempotence(sessions: sessionmaker[Session]) -> None:
    t0 = datetime(2026, 11, 20, 11, 0, 0, tzinfo=UTC)
    with sessions.begin() as session:
        insert(session, [raw(t0 + timedelta(seconds=s), latency=float(s + 1)) for s in range(0, 120, 2)])
        insert(
            session, [raw(t0 + timedelta(seconds=5), status=503), raw(t0 + timedelta(seconds=6), status=429)]
        )
        insert(session, [raw(NOW - timedelta(seconds=20), application_id=None, operation_id=None)])
    with sessions.begin() as session:
        result = rollup(session, now=NOW)
    assert result.records == 63 and result.minutes == 3 and result.hours == 2 and result.days == 1
    with sessions() as session:
        assert _calls(session, "minute") == _calls(session, "hour") == _calls(session, "day") == 63
        first = next(r for r in _rows(session, "minute") if r.bucket == t0 and r.status_class == 2)
        assert first.calls == 30 and first.latency_max_ms == 59.0 and first.upstream_calls == 30
        classes = {(r.status_class, r.rate_limited) for r in _rows(session, "hour") if r.calls == 1}
        assert {(5, 0), (4, 1)} <= classes
        anonymous = [r for r in _rows(session, "day") if r.application_id == ""]
        assert len(anonymous) == 1 and anonymous[0].operation_id == ""
        before = sorted((r.granularity, r.bucket, r.status_class, r.calls) for r in _rows(session, "day"))
    with sessions.begin() as session:
        again = rollup(session, now=NOW + timedelta(seconds=40))  # nothing new, nothing recent
    assert again.records == 0 and again.minutes == 0
    with sessions() as session:
        assert (
            sorted((r.granularity, r.bucket, r.status_class, r.calls) for r in _rows(session, "day"))
            == before
        )
        assert _calls(session, "minute") == 63


def test_late_records_rebuild_their_buckets(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        insert(session, [raw(NOW - timedelta(hours=3))])
    with sessions.begin() as session:
        rollup(session, now=NOW)
    with sessions.begin() as session:  # arrives later (a gateway that was cut off), for the same minute
        insert(
            session, [raw(NOW - timedelta(hours=3, seconds=-10)), raw(NOW - timedelta(hours=3, seconds=-20))]
        )
    with sessions.begin() as session:
        result = rollup(session, now=NOW + timedelta(minutes=1))
    assert result.records == 2 and result.minutes == 1
    with sessions() as session:
        assert _calls(session, "minute") == _calls(session, "hour") == _calls(session, "day") == 3
        assert len(_rows(session, "minute")) == 1


def test_records_settling_late_are_picked_up_by_time(sessions: sessionmaker[Session]) -> None:
    """A record with a lower id that becomes visible after higher ids were folded in (PostgreSQL hands
    out ids before commit): simulated by moving the watermark past it."""
    with sessions.begin() as session:
        insert(session, [raw(NOW - timedelta(seconds=5))])
    with sessions.begin() as session:
        rollup(session, now=NOW)
        insert(session, [raw(NOW - timedelta(seconds=3))])
    with sessions.begin() as session:
        from registry.models import RollupState

        state = session.get(RollupState, "usage")
        assert state is not None
        state.last_record_id += 10  # as if the new record's id had been passed already
    with sessions.begin() as session:
        rollup(session, now=NOW + timedelta(seconds=5))
    with sessions() as session:
        assert _calls(session, "minute") == _calls(session, "day") == 2


def test_hours_whose_minutes_are_pruned_are_left_alone(sessions: sessionmaker[Session]) -> None:
    old = NOW - timedelta(days=20)
    with sessions.begin() as session:
        insert(session, [raw(old)])
        rollup(session, now=NOW)
    with sessions() as session:
        assert _calls(session, "minute") == 1 and _calls(session, "hour") == 0 and _calls(session, "day") == 0
