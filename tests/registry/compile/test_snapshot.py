"""The compiled snapshot: deterministic, content-addressed, and a faithful picture of the registry."""

from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from examples.catalog import by_api_slug
from registry import snapshots
from registry.compile.snapshot import compile_snapshot, snapshot_id
from registry.models import AccessLevel, GrantState
from registry.services import apis, applications, grants
from registry.unit_of_work import change
from tests.registry import factories


def _world(sessions: sessionmaker[Session], settings: Settings) -> dict[str, str]:
    with change(sessions) as session:
        for slug in ("cadastre", "commerce", "meteo"):
            factories.agency(session, slug)
        factories.example_api(session, "addresses", "cadastre", AccessLevel.OPEN)
        factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        warnings = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        plan = factories.plan(session)
        app = factories.application(session, plan)
        live, secret = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        dead, _ = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        applications.revoke_key(session, dead, reason="test", actor="t")
        grant = grants.request_access(session, application=app, api=warnings, plan=plan, actor="t")
        grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="t")
        return {"app": app.id, "live": live.id, "dead": dead.id, "secret": secret}


def _service(doc: dict[str, Any], prefix: str) -> dict[str, Any]:
    matches = [s for s in doc["services"] if s["prefix"] == prefix]
    assert len(matches) == 1, [s["prefix"] for s in doc["services"]]
    return matches[0]


def test_snapshot_describes_services_routes_consumers_and_plans(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = _world(sessions, settings)
    with sessions() as session:
        doc = compile_snapshot(session)
    assert doc["format"] == 1 and doc["id"] == snapshot_id(doc)
    assert [s["prefix"] for s in doc["services"]] == [
        "/cadastre/addresses/v1",
        "/commerce/companies/v1",
        "/meteo/warnings/v1",
    ]
    companies = _service(doc, "/commerce/companies/v1")
    assert companies["upstream"] == "http://127.0.0.1:9102" and companies["access"] == "key"
    assert [p["name"] for p in companies["plugins"]] == ["key-auth", "rate-limiting", "usage-metering"]
    spec_ops = yaml.safe_load(by_api_slug("companies").spec_text())["paths"]
    assert {r["path"] for r in companies["routes"]} == set(spec_ops)
    assert all(r["sandbox"]["status"] // 100 == 2 for r in companies["routes"])
    security = {r["operation_id"]: r["security"] for r in companies["routes"]}
    assert security.pop("getHealth") == []  # `security: []` in the spec: the operation is public
    assert security and all(s == [{"apikey": []}] for s in security.values())  # the document's default
    assert all(r["scopes"] == [] for r in companies["routes"])  # an API key is no bearer scheme
    restricted = [p["name"] for p in _service(doc, "/meteo/warnings/v1")["plugins"]]
    assert restricted == ["access-control", "key-auth", "rate-limiting", "usage-metering"]
    (limit, meter) = _service(doc, "/cadastre/addresses/v1")["plugins"]
    assert limit["name"] == "rate-limiting" and limit["config"]["limit_by"] == "ip"
    assert meter["name"] == "usage-metering"

    (consumer,) = doc["consumers"]
    assert consumer["id"] == ids["app"] and consumer["plan"] == "free"
    assert [c["id"] for c in consumer["credentials"]] == [ids["live"]]  # the revoked key is not there
    assert consumer["grants"] == [{"api": "meteo/warnings", "plan": "free"}]
    assert ids["secret"] not in json.dumps(doc)
    assert doc["plans"]["free"]["limits"]["minute"] == 100


def test_snapshot_is_deterministic_and_changes_only_with_content(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    _world(sessions, settings)
    with sessions() as session:
        first = compile_snapshot(session)
        second = compile_snapshot(session)
        assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
        shuffled = dict(first)
        shuffled["services"] = list(reversed(first["services"]))
        assert snapshot_id(shuffled) != first["id"]  # order is part of the content, so compile must sort
        stored = snapshots.latest(session)
        assert stored is not None and stored.id == first["id"]
    with change(sessions) as session:
        assert snapshots.refresh(session) is None  # nothing changed: no new revision
    with change(sessions) as session:
        row = apis.get_version(session, "commerce", "companies", "1.0.0")
        apis.deprecate(session, row, sunset=None, actor="t")
    with sessions() as session:
        latest = snapshots.latest(session)
        assert latest is not None and latest.id != first["id"] and latest.revision > (stored.revision or 0)
        assert _service(latest.document, "/commerce/companies/v1")["status"] == "deprecated"


def test_retired_major_points_to_its_successor(sessions: sessionmaker[Session], settings: Settings) -> None:
    spec = yaml.safe_load(by_api_slug("companies").spec_text())
    with change(sessions) as session:
        factories.agency(session, "commerce")
        for version in ("1.0.0", "2.0.0"):
            spec["info"]["version"] = version
            apis.publish(
                session,
                agency_slug="commerce",
                spec=json.dumps(spec),
                upstream=None,
                api_slug="companies",
                actor="t",
            )
        apis.retire(session, apis.get_version(session, "commerce", "companies", "1.0.0"), actor="t")
    with sessions() as session:
        doc = snapshots.load(session)
    assert doc is not None
    v1 = _service(doc, "/commerce/companies/v1")
    assert v1["status"] == "retired" and v1["successor"] == "/commerce/companies/v2"
    assert _service(doc, "/commerce/companies/v2")["successor"] is None
    assert v1["upstream"] is None  # published without an upstream: sandbox only


def _bearer_companies(validator_at: str) -> dict[str, Any]:
    """The companies spec behind OpenID Connect: reads need `filings:read` (or an API key), filings
    need `filings:write`; jwt enabled for the document, request-validator at `validator_at` level."""
    spec = yaml.safe_load(by_api_slug("companies").spec_text())
    spec["components"]["securitySchemes"]["oidc"] = {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://id.example/.well-known/openid-configuration",
    }
    spec["security"] = [{"oidc": ["filings:read"]}, {"apikey": []}]
    create = spec["paths"]["/companies/{company_id}/filings"]["post"]
    create["security"] = [{"oidc": ["filings:write", "filings:read"]}]
    jwt = {"name": "jwt", "config": {"issuers": [{"issuer": "https://id.example", "audiences": ["a"]}]}}
    validator = {"name": "request-validator", "config": {"max_body_bytes": 4096}}
    if validator_at == "document":
        spec["x-agora-plugins"] = [jwt, validator]
    else:
        spec["x-agora-plugins"] = [jwt]
        create["x-agora-plugins"] = [jwt, validator]
    return spec


def _publish(sessions: sessionmaker[Session], spec: dict[str, Any]) -> dict[str, Any]:
    with change(sessions) as session:
        factories.agency(session, "commerce")
        apis.publish(
            session,
            agency_slug="commerce",
            spec=json.dumps(spec),
            upstream=None,
            api_slug="companies",
            access_level=AccessLevel.OPEN,
            actor="t",
        )
    with sessions() as session:
        return _service(compile_snapshot(session), "/commerce/companies/v1")


def test_routes_carry_security_scopes_and_validator_schemas(sessions: sessionmaker[Session]) -> None:
    service = _publish(sessions, _bearer_companies("operation"))
    routes = {r["operation_id"]: r for r in service["routes"]}
    create = routes["createFiling"]
    assert create["security"] == [{"oidc": ["filings:write", "filings:read"]}]
    assert create["scopes"] == [["filings:read", "filings:write"]]
    search = routes["searchCompanies"]
    assert search["security"] == [{"oidc": ["filings:read"]}, {"apikey": []}]
    assert search["scopes"] == [["filings:read"]]  # the API-key alternative is not the jwt plugin's
    assert routes["getHealth"]["security"] == [] and routes["getHealth"]["scopes"] == []
    assert "jwt" in [p["name"] for p in service["plugins"]]

    # Only the operation that asked for it validates; its entry carries that operation's schemas.
    (validator,) = [p for p in create["plugins"] if p["name"] == "request-validator"]
    config = validator["config"]
    assert config["max_body_bytes"] == 4096 and config["openapi"] == "3.0"
    (company_id,) = config["parameters"]
    assert (company_id["name"], company_id["in"], company_id["required"]) == ("company_id", "path", True)
    assert company_id["schema"]["pattern"] == "^RC[0-9]{6}$"
    body = config["body"]
    assert body["required"] is True and list(body["content"]) == ["application/json"]
    assert body["content"]["application/json"]["required"] == ["type", "submitted_by"]  # $ref expanded
    others = [r for r in service["routes"] if r is not create]
    assert not any(p["name"] == "request-validator" for r in others for p in r["plugins"])


def test_document_level_validator_moves_onto_every_route(sessions: sessionmaker[Session]) -> None:
    service = _publish(sessions, _bearer_companies("document"))
    assert "request-validator" not in [p["name"] for p in service["plugins"]]
    for route in service["routes"]:
        (validator,) = [p for p in route["plugins"] if p["name"] == "request-validator"]
        names = {p["name"] for p in validator["config"]["parameters"]}
        assert ("limit" in names) == (route["operation_id"] == "searchCompanies")
        assert (validator["config"]["body"] is not None) == (route["method"] == "POST")


def test_consumers_carry_their_organisation_and_their_grants_purpose(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """What the gateway copies into each access to a person's data (issue 16); absent when not set, so
    registries without personal data compile as before."""
    ids = _world(sessions, settings)
    with change(sessions) as session:
        factories.agency(session, "civil")
        family = factories.personal_data_api(session, "civil")
        app = applications.get_application(session, ids["app"])
        applications.set_organisation(session, app, "Acme Housing Ltd", actor="t")
        grant = grants.request_access(
            session,
            application=app,
            api=family,
            plan=factories.plan(session, "partner"),
            purpose="Checking a tenant's family situation",
            legal_basis="public-task",
            actor="t",
        )
        other = factories.application(session, grant.plan, "other@example.org", "other")
        pending = grants.request_access(
            session,
            application=other,
            api=family,
            plan=grant.plan,
            purpose="Research",
            legal_basis="public-task",
            actor="t",
        )
        assert pending.state is GrantState.PENDING
        grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="t")
    with sessions() as session:
        doc = compile_snapshot(session)
    consumers = {c["id"]: c for c in doc["consumers"]}
    consumer = consumers[ids["app"]]
    assert consumer["organisation"] == "Acme Housing Ltd"
    assert consumer["grants"] == [
        {
            "api": "civil/family",
            "plan": "partner",
            "purpose": "Checking a tenant's family situation",
            "legal_basis": "public-task",
        },
        {"api": "meteo/warnings", "plan": "free"},
    ]
    # No organisation, and only approved grants: the pending request is not there.
    assert "organisation" not in consumers[other.id] and consumers[other.id]["grants"] == []
