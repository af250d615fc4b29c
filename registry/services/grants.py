"""Access grants: an application asks for an API, the agency decides. Every move follows TRANSITIONS."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import InvalidInput, InvalidTransition, NotFound
from registry.models import TRANSITIONS, AccessGrant, Agency, Api, Application, GrantState, Plan, utcnow
from registry.services import audit, purposes

__all__ = ["decide", "get_grant", "grant_state", "list_grants", "request_access"]


def grant_state(grant: AccessGrant) -> dict[str, Any]:
    return {
        "application": grant.application_id,
        "api": f"{grant.api.agency.slug}/{grant.api.slug}",
        "plan": grant.plan.slug,
        "state": grant.state.value,
        "reason": grant.reason,
        "purpose": grant.purpose,
        "legal_basis": grant.legal_basis,
    }


def _target(grant: AccessGrant) -> str:
    return f"{grant.application_id}->{grant.api.agency.slug}/{grant.api.slug}"


def request_access(
    session: Session,
    *,
    application: Application,
    api: Api,
    plan: Plan,
    justification: str = "",
    purpose: str | None = None,
    legal_basis: str | None = None,
    checked: purposes.Purpose | None = None,
    actor: str,
) -> AccessGrant:
    """Asks for access (a new request, or again after a refusal or revocation). For an API with personal
    data, `purpose` and `legal_basis` (one of the API's declared ids) are required (services/purposes.py);
    asking again replaces them, since the agency decides on what is asked now. A caller that already
    checked them for this API passes the result as `checked` instead, and they are not checked again."""
    stated = purposes.stated_purpose(api, purpose=purpose, legal_basis=legal_basis, checked=checked)
    grant = session.scalar(
        select(AccessGrant).where(AccessGrant.application_id == application.id, AccessGrant.api_id == api.id)
    )
    if grant is None:
        grant = AccessGrant(
            application=application,
            api=api,
            plan=plan,
            state=GrantState.PENDING,
            justification=justification,
            purpose=stated.purpose,
            legal_basis=stated.legal_basis,
        )
        session.add(grant)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="grant.request",
            target_type="grant",
            target=_target(grant),
            agency_id=api.agency_id,
            after=grant_state(grant),
        )
        return grant
    grant.plan = plan
    grant.justification = justification
    grant.purpose, grant.legal_basis = stated.purpose, stated.legal_basis
    return _move(session, grant, GrantState.PENDING, reason=None, actor=actor)


def _move(
    session: Session, grant: AccessGrant, to: GrantState, *, reason: str | None, actor: str
) -> AccessGrant:
    if to not in TRANSITIONS[grant.state]:
        raise InvalidTransition(f"access grant is {grant.state.value}; it cannot become {to.value}")
    before = grant_state(grant)
    grant.state = to
    grant.reason = reason
    if to is not GrantState.PENDING:
        grant.decided_at = utcnow()
        grant.decided_by = actor
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"grant.{to.value}",
        target_type="grant",
        target=_target(grant),
        agency_id=grant.api.agency_id,
        before=before,
        after=grant_state(grant),
        detail={"reason": reason or ""},
    )
    return grant


def decide(
    session: Session, grant: AccessGrant, to: GrantState, *, reason: str | None, actor: str
) -> AccessGrant:
    """Approve, refuse or revoke. Refusing and revoking need a reason: the developer is told why."""
    if to in (GrantState.REFUSED, GrantState.REVOKED) and not (reason or "").strip():
        raise InvalidInput(
            f"a reason is required to {'refuse' if to is GrantState.REFUSED else 'revoke'} access"
        )
    return _move(session, grant, to, reason=reason, actor=actor)


def get_grant(session: Session, grant_id: int) -> AccessGrant:
    grant = session.get(AccessGrant, grant_id)
    if grant is None:
        raise NotFound(f"access grant {grant_id} does not exist")
    return grant


def list_grants(
    session: Session, *, agency_ids: set[int] | None = None, state: GrantState | None = None
) -> list[AccessGrant]:
    query = select(AccessGrant).join(Api).join(Agency).order_by(AccessGrant.id)
    if agency_ids is not None:
        query = query.where(Api.agency_id.in_(agency_ids))
    if state is not None:
        query = query.where(AccessGrant.state == state)
    return list(session.scalars(query).unique())
