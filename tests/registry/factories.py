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


# An API with personal data (issue 16): one operation reads a person's family record by their number.
PERSONAL_DATA_SPEC = """\
openapi: 3.0.3
info: {title: Family records, version: 1.0.0}
x-agora-personal-data:
  legal-bases:
    - {id: public-task, title: Public task (GDPR art. 6(1)(e)), retention-days: 1825}
    - {id: legal-obligation, title: Legal obligation (GDPR art. 6(1)(c)), retention-days: 1095}
paths:
  /people/{nir}/family:
    get:
      operationId: getFamily
      summary: A person's family record
      parameters: [{name: nir, in: path, required: true, schema: {type: string}}]
      x-agora-personal-data:
        subject: {in: path, name: nir}
        categories: [identity, family situation]
      responses:
        "200":
          description: The record
          content: {application/json: {schema: {type: object}, example: {children: 2}}}
"""


def personal_data_api(
    session: Session, agency_slug: str, api_slug: str = "family", spec: str = PERSONAL_DATA_SPEC
) -> Api:
    """A restricted API whose spec declares personal data (only restricted APIs may have it)."""
    result = apis.publish(
        session,
        agency_slug=agency_slug,
        spec=spec,
        filename="family.yaml",
        upstream=None,
        api_slug=api_slug,
        access_level=AccessLevel.RESTRICTED,
        actor=ACTOR,
    )
    return result.version.api
