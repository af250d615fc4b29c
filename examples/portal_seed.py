"""The portal side of the demo: portal passwords for the demo developer and an agency admin of the
restricted API's agency (`meteo`), so `make run` shows the account pages and the agency console.

Idempotent like `examples.seed`: accounts that have a password already are left alone. The passwords
are demo secrets, returned to be kept with the others in var/demo-credentials.json.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AgencyMembership, Developer
from registry.services import accounts

__all__ = ["DEMO_AGENCY_ADMIN", "seed_portal"]

DEMO_AGENCY_ADMIN = "admin@meteo.example.gov"
ACTOR = "seed:examples"


def seed_portal(session: Session, demo_developer: str) -> dict[str, str]:
    created: dict[str, str] = {}
    developer = session.scalar(select(Developer).where(Developer.email == demo_developer))
    if developer is not None and developer.password_hash is None:
        created["demo_portal_password"] = secrets.token_urlsafe(12)
        accounts.set_password(session, developer, created["demo_portal_password"], actor=ACTOR)
    admin = session.scalar(select(Developer).where(Developer.email == DEMO_AGENCY_ADMIN))
    has_membership = admin is not None and session.scalar(
        select(AgencyMembership.id).where(AgencyMembership.developer_id == admin.id)
    )
    if not has_membership:
        accounts.add_agency_admin(session, agency_slug="meteo", email=DEMO_AGENCY_ADMIN, actor=ACTOR)
        admin = session.scalar(select(Developer).where(Developer.email == DEMO_AGENCY_ADMIN))
    if admin is not None and admin.password_hash is None:
        created["meteo_admin_portal_password"] = secrets.token_urlsafe(12)
        accounts.set_password(session, admin, created["meteo_admin_portal_password"], actor=ACTOR)
    return created
