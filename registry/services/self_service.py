"""What a developer does to their own things in the portal: applications (rename, delete), keys,
and access (subscribe to open and key APIs under a self-service plan at once; restricted APIs and plans
that need approval are asked for, and the agency decides).

The `own_*` lookups check ownership (NotFound otherwise, so ids of others are not revealed).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agora.errors import Conflict, InvalidInput, NotFound
from registry.models import (
    AccessGrant,
    AccessLevel,
    Api,
    Application,
    Credential,
    Developer,
    GrantState,
    Plan,
)
from registry.services import applications, audit, grants, purposes

__all__ = [
    "default_plan",
    "delete_application",
    "developer_grants",
    "offered_plans",
    "own_application",
    "own_applications",
    "own_credential",
    "rename_application",
    "set_own_organisation",
    "subscribe",
    "subscription_needs_approval",
]

DEFAULT_PLAN = "free"


def own_applications(session: Session, developer: Developer) -> list[Application]:
    query = select(Application).where(Application.developer_id == developer.id).order_by(Application.name)
    return list(session.scalars(query).unique())


def own_application(session: Session, developer: Developer, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None or application.developer_id != developer.id:
        # The same answer for "not yours" and "absent": ids of others' applications are not revealed.
        raise NotFound("no such application")
    return application


def own_credential(session: Session, developer: Developer, credential_id: str) -> Credential:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.application.developer_id != developer.id:
        raise NotFound("no such key")
    return credential


def default_plan(session: Session) -> Plan:
    """The plan new applications start on: `free` if the platform has it, else the first platform-wide."""
    plan = session.scalar(select(Plan).where(Plan.slug == DEFAULT_PLAN, Plan.agency_id.is_(None)))
    plan = plan or session.scalar(select(Plan).where(Plan.agency_id.is_(None)).order_by(Plan.id))
    if plan is None:
        raise NotFound("the platform offers no plan yet; applications cannot be created")
    return plan


def offered_plans(session: Session, api: Api) -> list[Plan]:
    """Plans an API may be used under: the platform's and its own agency's."""
    query = select(Plan).where(or_(Plan.agency_id.is_(None), Plan.agency_id == api.agency_id))
    return list(session.scalars(query.order_by(Plan.agency_id.is_(None), Plan.slug)))


def rename_application(session: Session, application: Application, name: str, *, actor: str) -> Application:
    if not name.strip() or len(name) > 200:
        raise InvalidInput("an application name has 1 to 200 characters")
    before = {"name": application.name}
    application.name = name.strip()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.rename",
        target_type="application",
        target=application.id,
        before=before,
        after={"name": application.name},
    )
    return application


def set_own_organisation(
    session: Session, application: Application, organisation: str, *, actor: str
) -> Application:
    """A developer names the body their application acts for. Not while it holds or awaits access to
    personal data: the agency decided knowing that body, and the people whose data is read are shown
    it, so a new name must go before the agency again (an operator may still correct it)."""
    wanted = applications.checked_organisation(organisation)
    if wanted == application.organisation:
        return application
    live = (GrantState.PENDING, GrantState.APPROVED)
    for grant in session.scalars(
        select(AccessGrant).where(AccessGrant.application_id == application.id, AccessGrant.state.in_(live))
    ):
        if purposes.declared_legal_bases(grant.api) is not None:
            raise Conflict(
                f"{application.name} {'has' if grant.state is GrantState.APPROVED else 'asks for'} "
                f"access to personal data from {grant.api.title} as "
                f"{application.organisation or 'no organisation'}: the agency decided on that name, "
                "so create another application to act for another organisation"
            )
    return applications.set_organisation(session, application, wanted, actor=actor)


def delete_application(session: Session, application: Application, *, actor: str) -> None:
    """Deletes the application with its keys and grants (cascade): the gateway stops accepting them
    as soon as the unit of work recompiles the snapshot."""
    audit.record(
        session,
        actor=actor,
        action="application.delete",
        target_type="application",
        target=application.id,
        before={"name": application.name, "keys": len(application.credentials)},
    )
    for grant in session.scalars(select(AccessGrant).where(AccessGrant.application_id == application.id)):
        session.delete(grant)
    session.delete(application)
    session.flush()


def subscription_needs_approval(api: Api, plan: Plan) -> bool:
    """Restricted APIs are always decided by their agency; elsewhere the plan says."""
    return api.access_level is AccessLevel.RESTRICTED or plan.approval_required


def subscribe(
    session: Session,
    application: Application,
    api: Api,
    plan: Plan,
    *,
    justification: str,
    purpose: str | None = None,
    legal_basis: str | None = None,
    checked: purposes.Purpose | None = None,
    actor: str,
) -> AccessGrant:
    """A self-service plan on an open or key API: approved at once (an approved subscription moves to
    another self-service plan). Restricted APIs and plans that need approval: a pending request the
    agency decides, with the developer's justification (and, for an API with personal data, the
    purpose and legal basis: services/purposes.py; `checked` when the caller already checked them)."""
    # Checked first, so that asking again while a request is pending refuses what it would refuse; the
    # result goes down to request_access, which does not check again.
    stated = purposes.stated_purpose(api, purpose=purpose, legal_basis=legal_basis, checked=checked)
    if plan.agency_id is not None and plan.agency_id != api.agency_id:
        raise InvalidInput(f"The {plan.name} plan is not offered for {api.title}: choose another plan")
    needs_approval = subscription_needs_approval(api, plan)
    if needs_approval and len(justification.strip()) < 10:
        raise InvalidInput(
            "Tell the agency what your application does with this API, in 10 characters or more"
        )
    existing = session.scalar(
        select(AccessGrant).where(AccessGrant.application_id == application.id, AccessGrant.api_id == api.id)
    )
    if existing is not None and existing.state is GrantState.PENDING:
        return existing  # asking again while the agency decides changes nothing
    if existing is not None and existing.state is GrantState.APPROVED:
        if existing.plan_id == plan.id:
            return existing
        if needs_approval:
            raise Conflict(
                f"{application.name} already uses {api.title} under the {existing.plan.name} plan; "
                f"the {plan.name} plan needs the agency's approval: ask the agency to change it"
            )
        return _change_plan(session, existing, plan, actor=actor)
    grant = grants.request_access(
        session,
        application=application,
        api=api,
        plan=plan,
        justification=justification,
        checked=stated,
        actor=actor,
    )
    if not needs_approval:
        grants.decide(session, grant, GrantState.APPROVED, reason="self-service", actor="portal:self-service")
    return grant


def _change_plan(session: Session, grant: AccessGrant, plan: Plan, *, actor: str) -> AccessGrant:
    before = grants.grant_state(grant)
    grant.plan = plan
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="grant.plan",
        target_type="grant",
        target=f"{grant.application_id}->{grant.api.agency.slug}/{grant.api.slug}",
        agency_id=grant.api.agency_id,
        before=before,
        after=grants.grant_state(grant),
    )
    return grant


def developer_grants(session: Session, developer: Developer) -> list[AccessGrant]:
    query = (
        select(AccessGrant)
        .join(Application, Application.id == AccessGrant.application_id)
        .where(Application.developer_id == developer.id)
        .order_by(AccessGrant.id.desc())
    )
    return list(session.scalars(query).unique())
