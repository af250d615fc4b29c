"""Where a worker's health samples go: the registry's `health_samples` table, upserted by
(minute, service, worker), so a minute's row is rewritten with its running totals as the minute goes on.

Runs in a worker thread (gateway/upstream/health.py calls it with `asyncio.to_thread`), never on the
event loop; the engine is created lazily with one connection. A failed write is logged and the rows are
sent again with the next write (they hold running totals, so nothing is counted twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from registry.db import make_engine, make_sessionmaker
from registry.models import HealthSample

__all__ = ["DatabaseSampleStore", "SampleStore"]

_KEY = ["minute", "service", "worker"]
_UPDATED = ("probes", "probes_ok", "requests", "failures", "circuit", "healthy", "updated_at")


class SampleStore(Protocol):
    def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class DatabaseSampleStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if self._sessions is None:
            self._engine = make_engine(self.url, pool_size=1, max_overflow=0)
            self._sessions = make_sessionmaker(self._engine)
        with self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                pg = postgresql.insert(HealthSample)
                update = {name: pg.excluded[name] for name in _UPDATED}
                session.execute(pg.on_conflict_do_update(index_elements=_KEY, set_=update), list(rows))
            else:
                lite = sqlite.insert(HealthSample)
                update = {name: lite.excluded[name] for name in _UPDATED}
                session.execute(lite.on_conflict_do_update(index_elements=_KEY, set_=update), list(rows))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = self._sessions = None
