"""Small builders for registry rows used across tests (real rows in the real database)."""

from __future__ import annotations

import json
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


def personal_data_spec(version: str = "1.0.0", *, declare: bool = True, subject: str = "nir") -> str:
    """A small spec whose `GET /people/{nir}` returns personal data (`declare`), identified by the path
    parameter named `subject` (a name the operation lacks makes the declaration wrong)."""
    operation: dict[str, Any] = {
        "operationId": "getPerson",
        "parameters": [{"name": "nir", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The person's entitlements"}},
    }
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Entitlements", "version": version},
        "paths": {"/people/{nir}": {"get": operation}},
    }
    if declare:
        doc["x-agora-personal-data"] = {
            "legal-bases": [{"id": "public-task", "title": "Public task", "retention-days": 1825}]
        }
        operation["x-agora-personal-data"] = {
            "subject": {"in": "path", "name": subject},
            "categories": ["identity", "entitlements"],
        }
    return json.dumps(doc)
