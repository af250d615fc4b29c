"""What an application can call, and under which limits: the same rules the gateway applies (the
rate-limiting plugin picks an approved subscription's plan, else the application's own plan), read
from the registry for the developer's application page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AccessGrant, AccessLevel, Api, Application, GrantState, Plan

__all__ = ["Entitlement", "application_entitlements"]


@dataclass(frozen=True, slots=True)
class Entitlement:
    api: Api
    callable: bool  # the gateway lets this application's keys through
    plan: Plan | None  # the plan whose limits apply; None: not callable
    why: str  # one sentence: how the access and the plan come about
    grant: AccessGrant | None


def _entitlement(api: Api, application: Application, own: Plan, grant: AccessGrant | None) -> Entitlement:
    approved = grant is not None and grant.state is GrantState.APPROVED
    if approved:
        assert grant is not None
        return Entitlement(api, True, grant.plan, f"subscribed under the {grant.plan.name} plan", grant)
    pending = grant is not None and grant.state is GrantState.PENDING
    if api.access_level is AccessLevel.RESTRICTED:
        why = (
            "access requested: waiting for the agency's decision"
            if pending
            else "restricted: request access to call it"
        )
        return Entitlement(api, False, None, why, grant)
    why = (
        f"open: no key needed; with this application's key its own {own.name} plan applies"
        if api.access_level is AccessLevel.OPEN
        else f"no subscription needed: the application's own {own.name} plan applies"
    )
    if pending:
        assert grant is not None
        why += f" until the agency approves the {grant.plan.name} plan"
    return Entitlement(api, True, own, why, grant)


def application_entitlements(session: Session, application: Application) -> list[Entitlement]:
    """One entry per API of the catalogue, ordered by agency and API."""
    own = session.get(Plan, application.plan_id)
    assert own is not None  # plan_id is a non-null foreign key
    grants = {
        g.api_id: g
        for g in session.scalars(select(AccessGrant).where(AccessGrant.application_id == application.id))
    }
    apis = session.scalars(select(Api)).unique()
    rows = [_entitlement(api, application, own, grants.get(api.id)) for api in apis]
    return sorted(rows, key=lambda e: (e.api.agency.slug, e.api.slug))
