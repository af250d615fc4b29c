"""The portal side of the demo: portal passwords for the demo developer and an agency admin of the
restricted APIs' agencies (`meteo`; `benefits`, whose admin audits the accesses to personal data) and of
the key API's agency (`commerce`, which approves the `standard` plan), so `make run` shows the account
pages and the agency console.

Idempotent like `examples.seed`: accounts that have a password already are left alone. The passwords
are demo secrets, returned to be kept with the others in var/demo-credentials.json, beside the
sign-in email of each account (`<account>_portal_email`).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AgencyMembership, Developer
from registry.services import accounts

__all__ = ["DEMO_AGENCY_ADMIN", "DEMO_AGENCY_ADMINS", "seed_portal"]

DEMO_AGENCY_ADMIN = "admin@meteo.example.gov"
# agency slug -> the email its demo admin signs in with; credentials keys are `<agency>_admin_portal_*`
DEMO_AGENCY_ADMINS = {
    "meteo": DEMO_AGENCY_ADMIN,
    "commerce": "admin@commerce.example.gov",
    "benefits": "admin@benefits.example.gov",
}
ACTOR = "seed:examples"


def seed_portal(session: Session, demo_developer: str) -> dict[str, str]:
    created: dict[str, str] = {"demo_portal_email": demo_developer}
    developer = session.scalar(select(Developer).where(Developer.email == demo_developer))
    if developer is not None and developer.password_hash is None:
        created["demo_portal_password"] = secrets.token_urlsafe(12)
        accounts.set_password(session, developer, created["demo_portal_password"], actor=ACTOR)
    for agency_slug, email in DEMO_AGENCY_ADMINS.items():
        created[f"{agency_slug}_admin_portal_email"] = email
        created.update(_agency_admin(session, agency_slug, email))
    return created


def _agency_admin(session: Session, agency_slug: str, email: str) -> dict[str, str]:
    admin = session.scalar(select(Developer).where(Developer.email == email))
    has_membership = admin is not None and session.scalar(
        select(AgencyMembership.id).where(AgencyMembership.developer_id == admin.id)
    )
    if not has_membership:
        accounts.add_agency_admin(session, agency_slug=agency_slug, email=email, actor=ACTOR)
        admin = session.scalar(select(Developer).where(Developer.email == email))
    if admin is not None and admin.password_hash is None:
        password = secrets.token_urlsafe(12)
        accounts.set_password(session, admin, password, actor=ACTOR)
        return {f"{agency_slug}_admin_portal_password": password}
    return {}
