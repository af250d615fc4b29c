"""The admin process's jobs: the rollup every `AGORA_ROLLUP_INTERVAL` seconds (10) and the retention
prune once a day, each in a worker thread so the admin API's event loop never waits on them.

An asyncio task, not cron: the admin process is always running where the registry is, and several
admin replicas may run it at once (the rollup locks its state row; pruning twice deletes nothing twice).
A failing run is logged and retried at the next tick; the last outcome is exported on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from registry.analytics.retention import PruneResult, Retention, prune
from registry.analytics.rollup import RollupResult, rollup

__all__ = ["INTERVAL_ENV", "JobStatus", "Scheduler"]

log = logging.getLogger("agora.analytics")
INTERVAL_ENV = "AGORA_ROLLUP_INTERVAL"
DAY = 86_400.0


@dataclass(slots=True)
class JobStatus:
    runs: int = 0
    failures: int = 0
    last_success: float | None = None  # Unix time
    last_seconds: float | None = None  # how long the last successful run took


class Scheduler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        rollup_every: float | None = None,
        prune_every: float = DAY,
        retention: Retention | None = None,
    ) -> None:
        self.sessions = sessions
        self.rollup_every = rollup_every or float(os.environ.get(INTERVAL_ENV) or 10.0)
        self.prune_every = prune_every
        self.retention = retention or Retention.from_env()
        self.status = {"rollup": JobStatus(), "prune": JobStatus()}

    def rollup_once(self) -> RollupResult:
        with self._timed("rollup"), self.sessions.begin() as session:
            return rollup(session)

    def prune_once(self) -> PruneResult:
        with self._timed("prune"), self.sessions.begin() as session:
            return prune(session, self.retention)

    @contextlib.contextmanager
    def _timed(self, job: str) -> Iterator[None]:
        status, started = self.status[job], time.monotonic()
        status.runs += 1
        try:
            yield
        except Exception:
            status.failures += 1
            raise
        status.last_success, status.last_seconds = time.time(), time.monotonic() - started

    async def run(self) -> None:
        next_prune = time.monotonic() + 60.0  # not at start: a restart loop must not prune in a loop
        while True:
            await asyncio.sleep(self.rollup_every)
            try:
                await asyncio.to_thread(self.rollup_once)
            except Exception:
                log.exception("usage rollup failed; retried in %.0f s", self.rollup_every)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self.prune_every
                try:
                    result = await asyncio.to_thread(self.prune_once)
                    log.info("retention: %s", result)
                except Exception:
                    log.exception("retention prune failed; retried tomorrow")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="agora-analytics-scheduler")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
