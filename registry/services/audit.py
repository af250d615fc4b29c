"""Writing the audit trail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AuditEvent

__all__ = ["digest_state", "list_events", "record"]


def digest_state(state: dict[str, Any] | None) -> str | None:
    """A stable digest of a resource's state, so the trail proves what changed without copying it."""
    if state is None:
        return None
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target: str,
    agency_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        action=action,
        target_type=target_type,
        target=target,
        agency_id=agency_id,
        before_digest=digest_state(before),
        after_digest=digest_state(after),
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session, *, agency_ids: set[int] | None = None, limit: int = 100
) -> list[AuditEvent]:
    """Newest first. `agency_ids` scopes the trail to an agency admin's agencies."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if agency_ids is not None:
        query = query.where(AuditEvent.agency_id.in_(agency_ids))
    return list(session.scalars(query))
