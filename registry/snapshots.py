"""Storing compiled snapshots and reading the newest one (what gateways poll)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.compile.snapshot import compile_snapshot
from registry.models import GatewayConfig

__all__ = ["latest", "latest_revision", "load", "refresh"]


def latest_revision(session: Session) -> int | None:
    """The cheap query gateways run every half second."""
    return session.scalar(select(func.max(GatewayConfig.revision)))


def latest(session: Session) -> GatewayConfig | None:
    return session.scalar(select(GatewayConfig).order_by(GatewayConfig.revision.desc()).limit(1))


def load(session: Session, revision: int | None = None) -> dict[str, Any] | None:
    row = latest(session) if revision is None else session.get(GatewayConfig, revision)
    return None if row is None else dict(row.document)


def refresh(session: Session) -> GatewayConfig | None:
    """Recompile; store a new revision only when the content changed. Call inside the change's transaction,
    so a failed change never publishes a config and a committed one always does."""
    document = compile_snapshot(session)
    # Only the id: the stored document of a platform with large specs is megabytes of JSON.
    current = session.scalar(select(GatewayConfig.id).order_by(GatewayConfig.revision.desc()).limit(1))
    if current == document["id"]:
        return None
    row = GatewayConfig(id=document["id"], document=document)
    session.add(row)
    session.flush()
    return row
