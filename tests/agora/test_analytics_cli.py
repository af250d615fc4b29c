"""`agora analytics rollup` and `agora analytics prune --older-than DAYS`, as real processes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from registry import migrate
from registry.db import make_engine, make_sessionmaker
from registry.models import UsageRecord, UsageRollup, utcnow
from tests.agora.test_cli import Agora
from tests.registry.analytics.helpers import insert, raw


def test_rollup_then_prune(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'agora.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    with sessions.begin() as session:
        insert(session, [raw(now - timedelta(days=10)), raw(now - timedelta(minutes=5)), raw(now)])
    agora = Agora(tmp_path, url)
    assert "rolled up 3 records" in agora("analytics", "rollup").stdout
    out = agora("analytics", "prune", "--older-than", "5").stdout
    assert "deleted 1 raw records" in out and "older than 5 days" in out
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 2
        day_calls = session.scalar(
            select(func.sum(UsageRollup.calls)).where(UsageRollup.granularity == "day")
        )
    assert day_calls == 3  # day rows are kept: the pruned call still counts
    agora("analytics", "prune", "--older-than", "0", code=2)
    engine.dispose()
