"""The personal-data side of the demo: an organisation that reads the family benefits register.

A local family benefits fund (a CAF, in France) runs an application, `family-benefits-desk`, with an
approved grant on `benefits/entitlements` given for a stated purpose on the `public-task` legal basis.
Its key, in var/demo-credentials.json as `benefits_api_key`, calls the register for a person's NIR;
that person then signs in at the portal's /my-data/ and sees the access, the organisation and the
purpose (README, "See who read your data").

Idempotent like `examples.seed`: once the fund's developer exists, nothing is created again.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.settings import Settings
from examples.catalog import by_api_slug
from registry.models import Developer, GrantState
from registry.services import accounts, apis, applications, grants, plans

__all__ = [
    "APPLICATION",
    "DEVELOPER",
    "LEGAL_BASIS",
    "ORGANISATION",
    "PLAN",
    "PURPOSE",
    "seed_benefits",
]

DEVELOPER = "it@caf.example"
APPLICATION = "family-benefits-desk"
ORGANISATION = "Caisse d'allocations familiales de l'Exemple"
PURPOSE = (
    "Handling benefit claims: checking the family benefits a claimant already receives "
    "before deciding on a new claim"
)
LEGAL_BASIS = "public-task"  # one of the ids benefits.yaml declares under x-agora-personal-data
PLAN = "benefits-partners"  # examples.seed.PLANS
ACTOR = "seed:examples"


def seed_benefits(session: Session, settings: Settings) -> dict[str, str]:
    """Returns the fund's sign-in email, and its key and portal password when they are created now."""
    created = {"caf_portal_email": DEVELOPER}
    if session.scalar(select(Developer.id).where(Developer.email == DEVELOPER)) is not None:
        return created
    example = by_api_slug("entitlements")
    developer = applications.create_developer(
        session, email=DEVELOPER, name="CAF IT department", verified=True, actor=ACTOR
    )
    app = applications.create_application(
        session,
        developer=developer,
        name=APPLICATION,
        plan=plans.get_plan(session, "free"),
        description="The claims handlers' desk: a claimant's current benefits, next to their new claim.",
        organisation=ORGANISATION,
        actor=ACTOR,
    )
    grant = grants.request_access(
        session,
        application=app,
        api=apis.get_api(session, example.agency.slug, example.api_slug),
        plan=plans.get_plan(session, PLAN),
        justification="Our claims handlers check a claimant's current benefits before each decision.",
        purpose=PURPOSE,
        legal_basis=LEGAL_BASIS,
        actor=ACTOR,
    )
    grants.decide(session, grant, GrantState.APPROVED, reason="purpose within the public task", actor=ACTOR)
    _, created["benefits_api_key"] = applications.issue_key(
        session, app, hmac_key=settings.hmac_key, actor=ACTOR
    )
    created["benefits_application_id"] = app.id
    created["caf_portal_password"] = secrets.token_urlsafe(12)
    accounts.set_password(session, developer, created["caf_portal_password"], actor=ACTOR)
    return created
