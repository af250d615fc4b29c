"""Accesses to personal data are pruned by the analytics jobs once older than their own retention (the
legal basis's), whatever the usage retention; nothing younger goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry.analytics.retention import PruneResult, Retention, prune
from registry.analytics.scheduler import Scheduler
from registry.models import PersonalDataAccess, utcnow
from registry.services.personal_data import record_accesses, validate
from tests.registry.services.test_personal_data import access


def _store(sessions: sessionmaker[Session], *ages: tuple[str, int, float]) -> None:
    """(request id, retention days, age in days) each."""
    now = utcnow().timestamp()
    rows = [
        validate(access(request_id, retention_days=days, at=now - age * 86400), "/")
        for request_id, days, age in ages
    ]
    with sessions.begin() as session:
        assert record_accesses(session, rows) == len(rows)


def _left(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(PersonalDataAccess.request_id)))


def test_each_row_goes_after_its_own_retention(sessions: sessionmaker[Session]) -> None:
    _store(
        sessions,
        ("obligation-young", 1095, 1093),
        ("obligation-old", 1095, 1096),
        ("task-young", 1825, 1096),  # as old as the pruned one, but kept for its longer basis
        ("task-old", 1825, 1826),
        ("recent", 1, 0.5),
    )
    with sessions.begin() as session:
        result = prune(session, Retention(raw_days=1))  # the usage retention does not apply to accesses
    assert result.personal_data_accesses == 2
    assert _left(sessions) == ["obligation-young", "recent", "task-young"]
    with sessions.begin() as session:  # a day later, the one-day row goes too
        later = prune(session, Retention(), now=utcnow() + timedelta(days=1))
    assert later.personal_data_accesses == 1 and _left(sessions) == ["obligation-young", "task-young"]


def test_the_daily_job_prunes_them(sessions: sessionmaker[Session]) -> None:
    _store(sessions, ("old", 30, 31), ("kept", 30, 29))
    result = Scheduler(sessions).prune_once()
    assert result.personal_data_accesses == 1 and _left(sessions) == ["kept"]


def test_a_prune_result_always_says_how_many_accesses_went() -> None:
    # No default: a result made elsewhere cannot silently report that no access was pruned.
    with pytest.raises(TypeError, match="personal_data_accesses"):
        PruneResult(records=0, health_samples=0, minute_rows=0, hour_rows=0)  # type: ignore[call-arg]
