"""Keeps the served site in step with the registry: `agora portal serve` builds at start, then checks a
cheap fingerprint of the registry's catalogue every few seconds and rebuilds (incrementally) when it
moved. Building runs in a thread, so the server keeps answering with the previous site meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from devportal.build import build_portal
from registry.models import AuditEvent
from registry.unit_of_work import read

__all__ = ["INTERVAL_ENV", "catalogue_fingerprint", "rebuild_lifespan", "rebuild_once"]

log = logging.getLogger("agora.portal")
INTERVAL_ENV = "AGORA_PORTAL_REBUILD_SECONDS"
# Audit actions that change what the site shows (agencies, APIs, versions, plans), not sign-ups or keys.
_CATALOGUE_TARGETS = ("agency", "api", "api_version", "plan")


def catalogue_fingerprint(session: Session) -> int | None:
    return session.scalar(
        select(func.max(AuditEvent.id)).where(AuditEvent.target_type.in_(_CATALOGUE_TARGETS))
    )


def rebuild_once(settings: Settings, sessions: sessionmaker[Session], out: Path) -> None:
    with read(sessions) as session:
        result = build_portal(
            session, out=out, gateway_url=settings.gateway_url, portal_url=settings.portal_url
        )
    log.info(
        "portal built in %.1fs: %d files written, %d unchanged",
        result.seconds,
        len(result.sync.written),
        result.sync.unchanged,
    )


def rebuild_lifespan(
    settings: Settings, sessions: sessionmaker[Session], out: Path
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    interval = float(os.environ.get(INTERVAL_ENV, "5"))

    async def watch() -> None:
        seen: int | None = -1
        while True:
            try:
                with read(sessions) as session:
                    current = catalogue_fingerprint(session)
                if current != seen or not (out / "site").exists():
                    await asyncio.to_thread(rebuild_once, settings, sessions, out)
                    seen = current
            except Exception:  # keep serving the last good site; try again at the next tick
                log.exception("portal rebuild failed")
            await asyncio.sleep(interval)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan
