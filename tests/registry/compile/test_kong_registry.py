"""Every limit, grant and CORS rule of a real registry appears with the same meaning in `agora export kong`.

The registry is built with its own services (SQLite, and PostgreSQL with `-m postgres`): plans with
limits (one an agency's partner plan), applications on them, approved grants (and a pending one,
which grants nothing), an open API that publishes a CORS policy through `x-agora-plugins`. The
snapshot is compiled as the gateway gets it, then exported both ways.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from examples.catalog import EXAMPLE_HOST, by_api_slug
from registry.compile.kong import python_plugin_names, to_kong
from registry.compile.plugins import OPEN_LIMITS
from registry.compile.snapshot import compile_snapshot
from registry.models import AccessLevel, GrantState
from registry.services import apis, grants
from registry.unit_of_work import change
from tests.registry import factories

PERIODS = ("second", "minute", "hour", "day", "month")
CORS = {
    "origins": ["https://maps.example.org", "https://[a-z]+\\.example\\.gov"],
    "methods": ["GET", "POST"],
    "headers": ["Content-Type", "X-Request-ID"],
    "exposed_headers": ["X-Total-Count"],
    "credentials": True,
    "max_age": 3600,
}


def _publish_with_cors(session: Session) -> None:
    example = by_api_slug("addresses")
    spec = yaml.safe_load(example.spec_text())
    spec["x-agora-plugins"] = {"cors": CORS}
    apis.publish(
        session, agency_slug="cadastre", spec=yaml.safe_dump(spec), filename="addresses.yaml",
        upstream=example.upstream_url(), api_slug="addresses", access_level=AccessLevel.OPEN, actor="t",
        allowed_upstream_hosts=(EXAMPLE_HOST,),
    )  # fmt: skip


@pytest.fixture
def registry_snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with change(sessions) as session:
        for slug in ("cadastre", "commerce", "meteo"):
            factories.agency(session, slug)
        _publish_with_cors(session)
        factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        warnings = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        free = factories.plan(session, "free", second=5, minute=100, day=1000)
        gold = factories.plan(session, "gold", second=20, minute=1000, hour=20000, day=100000, month=1000000)
        partner = factories.plan(session, "partner", owner=warnings.agency, minute=300, day=5000)
        acme = factories.application(session, free, "dev@acme.example", "acme")
        civic = factories.application(session, gold, "dev@civic.example", "civic")
        granted = grants.request_access(session, application=acme, api=warnings, plan=partner, actor="t")
        grants.decide(session, granted, GrantState.APPROVED, reason=None, actor="t")
        grants.request_access(session, application=civic, api=warnings, plan=partner, actor="t")  # pending
    with sessions() as session:
        return compile_snapshot(session)


def _limits(plan: dict[str, Any]) -> dict[str, int]:
    return {p: v for p, v in (plan.get("limits") or {}).items() if v is not None}


def _service(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in config["services"] if s["name"] == name)


def _plugin(entity: dict[str, Any], name: str) -> dict[str, Any]:
    found = [p for p in entity["plugins"] if p["name"] == name]
    assert len(found) == 1, (entity["name"], name, [p["name"] for p in entity["plugins"]])
    return found[0]


def test_limits_grants_and_cors_rules_keep_their_meaning(registry_snapshot: dict[str, Any]) -> None:
    doc = registry_snapshot
    config = to_kong(doc)
    consumers = {c["custom_id"]: c for c in config["consumers"]}
    top = config["plugins"]
    assert {c["id"] for c in doc["consumers"]} == set(consumers)

    # Each application's plan: a consumer-scoped rate-limiting with exactly the plan's limits.
    for app in doc["consumers"]:
        kong = consumers[app["id"]]
        assert kong["username"] == app["username"] and f"plan:{app['plan']}" in kong["tags"]
        own = [p for p in top if p.get("consumer") == kong["username"] and "service" not in p]
        assert len(own) == 1 and own[0]["name"] == "rate-limiting"
        assert {k: v for k, v in own[0]["config"].items() if k in PERIODS} == _limits(
            doc["plans"][app["plan"]]
        )
        assert own[0]["config"]["limit_by"] == "consumer"

    # Each approved grant (and nothing else): an ACL group the restricted service allows, and the
    # grant's plan scoped to the consumer on every live service of that API.
    restricted = {
        s["name"]: f"{s['agency']}/{s['api']}" for s in doc["services"] if s["access"] == "restricted"
    }
    assert restricted
    for app in doc["consumers"]:
        kong = consumers[app["id"]]
        groups = {a["group"] for a in kong.get("acls", [])}
        assert groups == {f"grant:{g['api']}" for g in app["grants"]}
        for service_name, api in restricted.items():
            acl = _plugin(_service(config, service_name), "acl")["config"]
            granted = [g for g in app["grants"] if g["api"] == api]
            assert (f"grant:{api}" in groups) == bool(granted)
            assert acl["allow"] == [f"grant:{api}"]
            scoped = [
                p for p in top if p.get("consumer") == kong["username"] and p.get("service") == service_name
            ]
            if granted:
                (entry,) = scoped
                assert {k: v for k, v in entry["config"].items() if k in PERIODS} == _limits(
                    doc["plans"][granted[0]["plan"]]
                )
            else:
                assert not scoped
    assert any(app["grants"] for app in doc["consumers"]) and not all(
        app["grants"] for app in doc["consumers"]
    )

    # The open API: its per-IP limits and its CORS policy, as Kong's bundled plugins.
    addresses = _service(config, "cadastre.addresses.v1")
    limit = _plugin(addresses, "rate-limiting")["config"]
    assert {k: v for k, v in limit.items() if k in PERIODS} == {k: v for k, v in OPEN_LIMITS.items() if v}
    assert limit["limit_by"] == "ip"
    assert _plugin(addresses, "cors")["config"] == CORS
    for route in addresses["routes"]:
        paths = {r["paths"][0] for r in addresses["routes"] if "OPTIONS" in r["methods"]}
        assert route["paths"][0] in paths  # every path answers preflights

    # Metering is the global http-log, never a Python plugin per service; only key-auth needs Python.
    assert python_plugin_names(config) == ["agora-key-auth"]


def test_python_plugins_everywhere_pass_the_registry_s_rules_through(
    registry_snapshot: dict[str, Any],
) -> None:
    doc = registry_snapshot
    config = to_kong(doc, python_plugins_everywhere=True)
    for service in doc["services"]:
        kong = _service(config, service["name"])
        for entry in service["plugins"]:
            if entry["name"] == "usage-metering":
                continue
            assert _plugin(kong, f"agora-{entry['name']}")["config"] == entry["config"]
    assert not config["consumers"][0].get("plugins")
    global_plugins = {p["name"] for p in config["plugins"]}
    assert global_plugins == {"http-log", "correlation-id", "prometheus", "agora-rate-limiting"}
