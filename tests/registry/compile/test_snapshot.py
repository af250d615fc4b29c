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
