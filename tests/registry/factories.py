"""Small builders for registry rows used across tests (real rows in the real database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from examples.catalog import EXAMPLE_HOST, by_api_slug
from registry.models import AccessLevel, Agency, Api, Application, Plan
from registry.services import agencies, apis, applications, plans

ACTOR = "test"
FREE = {"second": 5, "minute": 100, "hour": None, "day": 1000, "month": None}


def agency(session: Session, slug: str = "cadastre") -> Agency:
    return agencies.create_agency(session, slug=slug, name=f"Agency {slug}", actor=ACTOR)


def plan(session: Session, slug: str = "free", owner: Agency | None = None, **limits: Any) -> Plan:
    return plans.create_plan(
        session, slug=slug, name=slug.title(), limits={**FREE, **limits}, agency=owner, actor=ACTOR
    )


def example_api(session: Session, api_slug: str, agency_slug: str, access: AccessLevel) -> Api:
    """Publishes one of the example specs under the given agency."""
    example = by_api_slug(api_slug)
    result = apis.publish(
        session,
        agency_slug=agency_slug,
        spec=example.spec_text(),
        filename=example.spec_file,
        upstream=example.upstream_url(),
        api_slug=api_slug,
        access_level=access,
        allowed_upstream_hosts=(EXAMPLE_HOST,),
        actor=ACTOR,
    )
    return result.version.api


def application(
    session: Session, plan_row: Plan, email: str = "dev@example.org", name: str = "app"
) -> Application:
    developer = applications.create_developer(session, email=email, actor=ACTOR)
    return applications.create_application(
        session, developer=developer, name=name, plan=plan_row, actor=ACTOR
    )
