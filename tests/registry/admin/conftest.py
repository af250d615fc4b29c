"""An admin app over the migrated test database, and tokens for each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from registry.admin.app import create_admin_app
from registry.models import AccessLevel, Role
from registry.services import tokens
from registry.unit_of_work import change
from tests.registry import factories


@dataclass
class World:
    """Two agencies with an API and a plan each, a grant on each, and a token per role."""

    client: TestClient
    platform: dict[str, str]
    ops: dict[str, str]
    admin_a: dict[str, str]
    admin_b: dict[str, str]
    ingest: dict[str, str]  # a usage-ingest token
    grant_a: int
    grant_b: int


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> Iterator[World]:
    from registry.services import grants

    with change(sessions) as session:
        a = factories.agency(session, "cadastre")
        b = factories.agency(session, "meteo")
        api_a = factories.example_api(session, "addresses", "cadastre", AccessLevel.RESTRICTED)
        api_b = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        plan_a = factories.plan(session, "cadastre-gold", owner=a)
        plan_b = factories.plan(session, "meteo-gold", owner=b)
        factories.plan(session, "free")
        app = factories.application(session, plan_a)
        grant_a = grants.request_access(session, application=app, api=api_a, plan=plan_a, actor="t").id
        grant_b = grants.request_access(session, application=app, api=api_b, plan=plan_b, actor="t").id
        secrets = {}
        for name, role, scope in (
            ("platform", Role.PLATFORM_ADMIN, []),
            ("ops", Role.OPS, []),
            ("admin-a", Role.AGENCY_ADMIN, [a]),
            ("admin-b", Role.AGENCY_ADMIN, [b]),
            ("kong-metering", Role.USAGE_INGEST, []),
        ):
            _, secrets[name] = tokens.create_token(
                session, name=name, role=role, agencies=scope, hmac_key=settings.hmac_key, actor="t"
            )
    with TestClient(create_admin_app(settings, sessions)) as client:
        yield World(
            client=client,
            platform=_bearer(secrets["platform"]),
            ops=_bearer(secrets["ops"]),
            admin_a=_bearer(secrets["admin-a"]),
            admin_b=_bearer(secrets["admin-b"]),
            ingest=_bearer(secrets["kong-metering"]),
            grant_a=grant_a,
            grant_b=grant_b,
        )
