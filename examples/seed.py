"""Loads the example agencies into a registry: what `make run` shows on a fresh machine.

Idempotent: what exists already is left alone, so `make run` can be run again on the same database.
The demo key and admin token are secrets shown once; for the local demo they are also written to a
file readable by the owner only (default var/demo-credentials.json), never to the repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.settings import Settings
from examples.benefits_seed import seed_benefits
from examples.catalog import EXAMPLE_HOST, EXAMPLES, by_api_slug
from examples.portal_seed import seed_portal
from registry.models import AccessLevel, AdminToken, Agency, Api, Developer, GrantState, Role
from registry.services import agencies, apis, applications, grants, plans, tokens

__all__ = ["DEMO_DEVELOPER", "PLANS", "save_credentials", "seed"]

DEMO_DEVELOPER = "demo@agora.example"
ACTOR = "seed:examples"

# (slug, name, agency slug or None, approval required, limits): a modest self-service free tier, a
# standard tier the API's agency approves, and a partner tier for each restricted API.
PLANS: tuple[tuple[str, str, str | None, bool, dict[str, int | None]], ...] = (
    ("free", "Free", None, False, {"second": 5, "minute": 100, "hour": None, "day": 10_000, "month": None}),
    (
        "standard",
        "Standard",
        None,
        True,
        {"second": 50, "minute": None, "hour": None, "day": 1_000_000, "month": None},
    ),
    (
        "meteo-partners",
        "Emergency partners",
        "meteo",
        True,
        {"second": 20, "minute": None, "hour": None, "day": 100_000, "month": None},
    ),
    (
        "benefits-partners",
        "Benefits partners",
        "benefits",
        True,
        {"second": 10, "minute": None, "hour": None, "day": 50_000, "month": None},
    ),
)


def _ensure_plans(session: Session) -> None:
    existing = {p.slug for p in plans.list_plans(session)}
    for slug, name, agency_slug, approval, limits in PLANS:
        if slug not in existing:
            owner = agencies.get_agency(session, agency_slug) if agency_slug else None
            plans.create_plan(
                session,
                slug=slug,
                name=name,
                limits=limits,
                approval_required=approval,
                agency=owner,
                actor=ACTOR,
            )


def seed(session: Session, settings: Settings, *, port_offset: int = 0) -> dict[str, str]:
    """Returns the secrets created this time, and the portal sign-in email of each demo account."""
    created: dict[str, str] = {}
    for example in EXAMPLES:
        a = example.agency
        if session.scalar(select(Agency.id).where(Agency.slug == a.slug)) is None:
            agencies.create_agency(
                session,
                slug=a.slug,
                name=a.name,
                contact_email=a.contact_email,
                website=a.website,
                actor=ACTOR,
            )
    _ensure_plans(session)
    for example in EXAMPLES:
        agency = agencies.get_agency(session, example.agency.slug)
        if (
            session.scalar(select(Api.id).where(Api.agency_id == agency.id, Api.slug == example.api_slug))
            is None
        ):
            apis.publish(
                session,
                agency_slug=agency.slug,
                spec=example.spec_text(),
                filename=example.spec_file,
                upstream=example.upstream_url(port_offset=port_offset),
                api_slug=example.api_slug,
                access_level=AccessLevel(example.access),
                tags=list(example.tags),
                allowed_upstream_hosts=(*settings.allowed_upstream_hosts, EXAMPLE_HOST),
                actor=ACTOR,
            )
    if session.scalar(select(Developer.id).where(Developer.email == DEMO_DEVELOPER)) is None:
        developer = applications.create_developer(
            session, email=DEMO_DEVELOPER, name="Demo Developer", verified=True, actor=ACTOR
        )
        app = applications.create_application(
            session, developer=developer, name="demo-app", plan=plans.get_plan(session, "free"), actor=ACTOR
        )
        _, created["demo_api_key"] = applications.issue_key(
            session, app, hmac_key=settings.hmac_key, actor=ACTOR
        )
        _, created["demo_sandbox_key"] = applications.issue_key(
            session, app, hmac_key=settings.hmac_key, sandbox=True, actor=ACTOR
        )
        created["demo_application_id"] = app.id
        # The weather warnings only: the benefits register's personal data goes to the fund's own
        # application (examples.benefits_seed), for a purpose, and to no demo.
        warnings = by_api_slug("warnings")
        grant = grants.request_access(
            session,
            application=app,
            api=apis.get_api(session, warnings.agency.slug, warnings.api_slug),
            plan=plans.get_plan(session, "meteo-partners"),
            justification="Demo application of the local platform",
            actor=ACTOR,
        )
        grants.decide(session, grant, GrantState.APPROVED, reason="demo", actor=ACTOR)
    if session.scalar(select(AdminToken.id).where(AdminToken.name == "bootstrap")) is None:
        _, created["admin_token"] = tokens.create_token(
            session,
            name="bootstrap",
            role=Role.PLATFORM_ADMIN,
            agencies=[],
            hmac_key=settings.hmac_key,
            actor=ACTOR,
        )
    created.update(seed_benefits(session, settings))  # the family benefits fund's application and key
    created.update(seed_portal(session, DEMO_DEVELOPER))  # portal passwords, the agencies' admins
    return created


def save_credentials(path: Path, created: dict[str, str]) -> None:
    """Merges newly created demo secrets into an owner-only JSON file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    current: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    current.update(created)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(current, handle, indent=2, sort_keys=True)
