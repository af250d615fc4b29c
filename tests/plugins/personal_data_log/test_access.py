"""personal-data-log through running gateways: a registry whose spec declares personal data, compiled as
the registry compiles it; an application with an approved grant (purpose and legal basis) calls the
operation for two people, another application is refused; the rows are in the registry's database
under pseudonyms, and the identifiers appear nowhere in the database file. The `http` backend through
the real admin API, and a subject taken from a token verified by the jwt plugin (the real OpenID
Provider of tests/oidc_provider)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from gateway_harness import StartGateway, stop
from sqlalchemy import select

from registry.compile.snapshot import compile_snapshot
from registry.db import make_engine, make_sessionmaker
from registry.models import AccessLevel, GrantState, PersonalDataAccess
from registry.services import agencies, apis, applications, grants, plans
from registry.unit_of_work import change
from tests.plugins.helpers import HMAC_KEY, platform_env, sqlite_copy
from tests.plugins.jwt.conftest import AUDIENCE, client_token, oidc_issuer
from tests.plugins.personal_data_log.conftest import KEYS, NIR_A, NIR_B, RING
from tests.plugins.usage_metering.conftest import admin_api

if TYPE_CHECKING:
    from tests.plugins.usage_metering.conftest import AdminApi

__all__ = ["admin_api", "oidc_issuer"]  # fixtures used here

pytestmark = pytest.mark.integration

PURPOSE = "Compute the housing benefit of an applicant"
DIGITS_A, DIGITS_B = NIR_A.replace(" ", ""), NIR_B.replace(" ", "")
_OK = {"200": {"description": "ok"}}
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Entitlements", "version": "1.0.0"},
    "x-agora-personal-data": {
        "legal-bases": [
            {"id": "public-task", "title": "Public task", "retention-days": 1825},
            {"id": "legal-obligation", "title": "Legal obligation", "retention-days": 1095},
        ],
    },
    "components": {"securitySchemes": {"apikey": {"type": "apiKey", "in": "header", "name": "apikey"}}},
    "security": [{"apikey": []}],
    "paths": {
        "/beneficiaries/{nir}/entitlements": {
            "get": {
                "operationId": "getEntitlements",
                "parameters": [{"name": "nir", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _OK,
                "x-agora-personal-data": {
                    "subject": {"in": "path", "name": "nir"},
                    "categories": ["identity", "entitlements"],
                },
            }
        },
        "/offices": {"get": {"operationId": "listOffices", "responses": _OK}},
    },
}


@dataclass(frozen=True)
class Registry:
    database_url: str
    snapshot: dict[str, Any]
    key: str  # the granted application's
    outsider_key: str  # an application without a grant


def build_registry(template: Path, where: Path, upstream: str) -> Registry:
    """The registry as publication and approval leave it, compiled into the snapshot gateways serve."""
    url = sqlite_copy(template, where)
    engine = make_engine(url)
    try:
        with change(make_sessionmaker(engine)) as session:
            agencies.create_agency(session, slug="benefits", name="Benefits agency", actor="t")
            published = apis.publish(
                session, agency_slug="benefits", spec=json.dumps(SPEC), upstream=upstream + "/echo",
                api_slug="entitlements", access_level=AccessLevel.RESTRICTED,
                allowed_upstream_hosts=("127.0.0.1",), actor="t",
            )  # fmt: skip
            plan = plans.create_plan(session, slug="free", name="Free", limits={}, actor="t")
            keys = []
            for email, name in (("caf@example.org", "caf-portal"), ("nosy@example.org", "nosy")):
                developer = applications.create_developer(session, email=email, actor="t")
                organisation = "Caisse d'allocations familiales" if name == "caf-portal" else ""
                app = applications.create_application(
                    session, developer=developer, name=name, plan=plan, organisation=organisation, actor="t"
                )
                keys.append(applications.issue_key(session, app, hmac_key=HMAC_KEY, actor="t")[1])
                if name == "caf-portal":
                    grant = grants.request_access(
                        session, application=app, api=published.version.api, plan=plan,
                        purpose=PURPOSE, legal_basis="legal-obligation", actor="t",
                    )  # fmt: skip
                    grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="t")
            snapshot = compile_snapshot(session)  # the grant's purpose and legal basis, the organisation
    finally:
        engine.dispose()
    return Registry(url, snapshot, keys[0], keys[1])


def accesses(url: str) -> list[PersonalDataAccess]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))
    finally:
        engine.dispose()


def wait_for_rows(url: str, expected: int, timeout: float = 10.0) -> list[PersonalDataAccess]:
    deadline = time.monotonic() + timeout
    rows = accesses(url)
    while len(rows) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = accesses(url)
    return rows


@pytest.fixture
def registry(sqlite_template: Path, tmp_path: Path, upstream: str) -> Iterator[Registry]:
    yield build_registry(sqlite_template, tmp_path, upstream)


def test_two_people_and_a_refusal_are_logged_under_pseudonyms(
    start_gateway: StartGateway, registry: Registry, tmp_path: Path
) -> None:
    env = platform_env(
        tmp_path / "state", AGORA_DATABASE_URL=registry.database_url, AGORA_PSEUDONYM_KEYS=KEYS
    )
    gateway = start_gateway(registry.snapshot, env=env)
    path = "/benefits/entitlements/v1/beneficiaries/{}/entitlements"
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        assert client.get(path.format(DIGITS_A), headers={"apikey": registry.key}).status_code == 200
        assert client.get(path.format(DIGITS_B), headers={"apikey": registry.key}).status_code == 200
        assert client.get(path.format(DIGITS_A), headers={"apikey": registry.outsider_key}).status_code == 403
        assert (
            client.get("/benefits/entitlements/v1/offices", headers={"apikey": registry.key}).status_code
            == 200
        )
    stop(gateway.process)  # a graceful stop writes what is pending
    assert gateway.process.returncode == 0
    rows = accesses(registry.database_url)
    assert len(rows) == 3 and len({r.request_id for r in rows}) == 3  # once per call, none for /offices
    a, b, refused = rows
    assert (a.key_id, a.subject) == RING.pseudonym(NIR_A) and (b.key_id, b.subject) == RING.pseudonym(NIR_B)
    assert refused.subject == a.subject
    assert (a.agency, a.api, a.version, a.operation_id) == (
        "benefits",
        "entitlements",
        "1.0.0",
        "getEntitlements",
    )
    assert (a.application_name, a.organisation) == ("caf-portal", "Caisse d'allocations familiales")
    assert (a.purpose, a.legal_basis, a.retention_days) == (PURPOSE, "legal-obligation", 1095)
    assert (a.outcome, b.outcome) == ("served", "served") and a.categories == ["identity", "entitlements"]
    assert (refused.application_name, refused.status, refused.outcome) == ("nosy", 403, "refused")
    assert (refused.purpose, refused.retention_days) == ("", 1825)
    # The identifiers are nowhere in the database, in any table or index (the usage records included).
    path_ = Path(registry.database_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in path_.parent.glob(path_.name + "*"))
    assert DIGITS_A.encode() not in stored and DIGITS_B.encode() not in stored
    assert a.subject.encode() in stored  # the file was read whole: the pseudonym is there


def test_the_http_backend_posts_beside_the_usage_ingest(
    start_gateway: StartGateway, registry: Registry, tmp_path: Path, admin_api: AdminApi
) -> None:
    # A gateway without a database: the usage ingest URL in its environment sends its accesses to the
    # registry's personal data ingest, with the same token.
    env = platform_env(
        tmp_path / "state", AGORA_DATABASE_URL=registry.database_url, AGORA_PSEUDONYM_KEYS=KEYS,
        AGORA_USAGE_INGEST_URL=admin_api.ingest, AGORA_USAGE_INGEST_TOKEN=admin_api.token,
    )  # fmt: skip
    gateway = start_gateway(registry.snapshot, env=env)
    before = len(accesses(admin_api.database_url))
    path = "/benefits/entitlements/v1/beneficiaries/{}/entitlements"
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        for nir in (DIGITS_A, DIGITS_B):
            assert client.get(path.format(nir), headers={"apikey": registry.key}).status_code == 200
    rows = wait_for_rows(admin_api.database_url, before + 2)[before:]
    stop(gateway.process)
    assert [r.subject for r in rows] == [RING.pseudonym(NIR_A)[1], RING.pseudonym(NIR_B)[1]]
    assert {r.purpose for r in rows} == {PURPOSE}
    assert accesses(registry.database_url) == []  # nothing went to the gateway's own database URL


def test_a_subject_from_the_verified_token(
    start_gateway: StartGateway, upstream: str, oidc_issuer: str, sqlite_template: Path, tmp_path: Path
) -> None:
    """The jwt plugin verifies the token and names the application (`client_id`); the subject is a claim
    of the same token (here `client_id` too: the test provider issues client-credentials tokens)."""
    from tests.plugins.helpers import consumer, route, service, snapshot

    jwt = {"name": "jwt", "config": {"issuers": [{"issuer": oidc_issuer, "audiences": [AUDIENCE]}],
                                     "consumer_claim": "client_id"}}  # fmt: skip
    logged = {"name": "personal-data-log", "config": {
        "subject": {"in": "jwt-claim", "name": "client_id"}, "categories": ["identity"],
        "legal_bases": {"public-task": 1825},
    }}  # fmt: skip
    items = [route("GET", "/me", plugins=[logged])]
    doc = snapshot([service("benefits.me.v1", upstream + "/echo", items, plugins=[jwt])])
    app = consumer("app-rs", "agora-rs", [], grants=["benefits/me"])
    app["grants"][0].update({"purpose": "Self service", "legal_basis": "public-task"})
    doc["consumers"] = [app]
    url = sqlite_copy(sqlite_template, tmp_path)
    env = platform_env(
        tmp_path / "state", AGORA_DATABASE_URL=url, AGORA_PSEUDONYM_KEYS=KEYS,
        AGORA_ALLOWED_UPSTREAM_HOSTS="127.0.0.1",  # the provider's keys are on loopback, as with `make run`
    )  # fmt: skip
    gateway = start_gateway(doc, env=env)
    token = client_token(oidc_issuer, "agora-rs")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        assert (
            client.get("/benefits/me/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )
        assert client.get("/benefits/me/v1/me").status_code == 401  # no token: no claim, nobody to show
    stop(gateway.process)
    (row,) = accesses(url)
    assert (row.subject, row.application_id, row.purpose) == (
        RING.pseudonym("agora-rs")[1],
        "app-rs",
        "Self service",
    )
