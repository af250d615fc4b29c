"""`registry.compile.kong`: the snapshot as a Kong declarative config.

Snapshots are built by hand here. Kong itself is not available offline, so routing is checked by
replaying what Kong does: compile each route's regex (PCRE `(?<name>` as Python's `(?P<name>`),
anchor it at the start as Kong's router does, keep the routes whose methods fit, pick the highest
`regex_priority`, then render `request-transformer`'s `replace.uri` with the captures.
"""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput
from agora.settings import Settings
from gateway.pipeline.sandbox import sample_from_schema
from registry.compile.kong import RedisTarget, dump, plugin_server_settings, python_plugin_names, to_kong
from registry.compile.kong_routes import VALUE, capture_names, route_path
from registry.compile.snapshot import compile_snapshot
from registry.models import AccessLevel, GrantState
from registry.services import applications, grants
from registry.unit_of_work import change
from tests.registry import factories

DIGESTS = ["9f2c" * 16, "41ab" * 16, "77de" * 16]
PREFIXES = ["agora_ab12cd34", "agora_ef56ab78", "agora_0badc0de"]
CREDENTIAL_IDS = [f"0d6c7f0e-1111-4a4a-9b9b-00000000000{i}" for i in (1, 2, 3)]
APP_ACME = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11"
APP_CIVIC = "1f2e3d4c-5b6a-4789-8abc-def012345678"
REDIS = RedisTarget(host="redis", port=6380, database=2)


def _route(op: str, method: str, path: str, plugins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"operation_id": op, "method": method, "path": path, "plugins": plugins or [], "sandbox": None}


def _service(agency: str, api: str, major: int, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": f"{agency}.{api}.v{major}",
        "agency": agency,
        "api": api,
        "title": api.title(),
        "version": f"{major}.0.0",
        "major": major,
        "prefix": f"/{agency}/{api}/v{major}",
        "upstream": f"http://{api}.internal:9000",
        "status": "published",
        "access": "key",
        "sunset": None,
        "successor": None,
        "changelog": f"/{agency}/{api}/changelog/",
        "timeouts": {"connect": 5.0, "read": 30.0},
        "max_body_bytes": 10485760,
        "plugins": [{"name": "key-auth", "config": {"key_names": ["apikey", "X-Api-Key"]}}],
        "routes": [],
    }
    doc.update(fields)
    return doc


def _consumer(
    app: str, name: str, email: str, plan: str, keys: list[int], grants: tuple[str, ...] | list[str] = ()
) -> dict[str, Any]:
    credentials = [
        {"id": f"0d6c7f0e-1111-4a4a-9b9b-00000000000{i + 1}", "prefix": PREFIXES[i], "digest": DIGESTS[i],
         "expires_at": None, "sandbox": i == 2}
        for i in keys
    ]  # fmt: skip
    return {
        "id": app,
        "username": name,
        "developer": email,
        "plan": plan,
        "credentials": credentials,
        "grants": [{"api": api, "plan": "partner"} for api in grants],
    }


def _plan(name: str, **limits: int) -> dict[str, Any]:
    return {"name": name, "limits": {p: limits.get(p) for p in ("second", "minute", "hour", "day", "month")}}


def snapshot() -> dict[str, Any]:
    companies = _service(
        "commerce",
        "companies",
        1,
        upstream="http://companies.internal:9000/api/",
        routes=[
            _route("listCompanies", "GET", "/companies"),
            _route(
                "createCompany",
                "POST",
                "/companies",
                [{"name": "request-validator", "config": {"body": True}}],
            ),
            _route("searchCompanies", "GET", "/companies/search"),
            _route("getCompany", "GET", "/companies/{company_id}"),
            _route("listOfficers", "GET", "/companies/{company_id}/officers"),
            _route("getSection", "GET", "/companies/{company_id}/{section}"),
            _route("getFile", "GET", "/files/{name}.{ext}"),
        ],
    )
    records = _service(
        "health",
        "records",
        2,
        access="restricted",
        upstream="https://records.internal",
        timeouts={"connect": 2.5, "read": 60.0},
        plugins=[
            {"name": "access-control", "config": {}},
            {"name": "key-auth", "config": {"key_names": ["apikey"]}},
            {"name": "rate-limiting", "config": {}},
        ],
        routes=[
            _route("getRecord", "GET", "/records/{record-id}"),
            _route("putRecord", "PUT", "/records/{record-id}"),
        ],
    )
    retired = _service(
        "health",
        "records",
        1,
        access="restricted",
        status="retired",
        successor="/health/records/v2",
        plugins=[{"name": "key-auth", "config": {}}, {"name": "access-control", "config": {}}],
        routes=[_route("getRecord", "GET", "/records/{id}")],
    )
    deprecated = _service(
        "commerce",
        "companies",
        0,
        status="deprecated",
        sunset="2026-06-30",
        successor="/commerce/companies/v1",
        routes=[_route("listCompanies", "GET", "/companies")],
    )
    stops = _service(
        "transport",
        "stops",
        1,
        access="open",
        plugins=[
            {
                "name": "cors",
                "config": {
                    "origins": ["https://maps.example.org", "https://bus.example.org"],
                    "methods": ["GET"],
                    "credentials": False,
                    "max_age": 600,
                },
            },
            {"name": "ip-restriction", "config": {"deny": ["10.0.0.0/8", "192.0.2.7"]}},
            {"name": "rate-limiting", "config": {"minute": 100, "hour": 1000}},
        ],
        routes=[_route("listStops", "GET", "/stops"), _route("getStop", "GET", "/stops/{stop_id}")],
    )
    tickets = _service("transport", "tickets", 1, upstream=None)
    tickets["routes"] = [
        {
            **_route("listTickets", "GET", "/tickets"),
            "sandbox": {
                "status": 200,
                "content_type": "application/json",
                "body": {"items": [{"id": "t-1"}]},
            },
        },
        _route("buyTicket", "POST", "/tickets"),
    ]
    return {
        "format": 1,
        "id": "sha256:" + "5a" * 32,
        "services": [companies, deprecated, records, retired, stops, tickets],
        "consumers": [
            _consumer(APP_CIVIC, "civic-dashboard", "maintainer@civic.example", "gold", [1]),
            _consumer(APP_ACME, "acme-weather-app", "dev@acme.example", "free", [0, 2], ["health/records"]),
        ],
        "plans": {
            "free": _plan("Free", minute=60, day=1000),
            "gold": _plan("Gold", second=10, minute=600, hour=10000, day=100000, month=1000000),
            "partner": _plan("Partner", minute=120, day=5000),
        },
    }


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    out: dict[str, Any] = to_kong(snapshot(), redis=REDIS)
    return out


def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in config["services"]}


def routes(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for s in config["services"] for r in s["routes"]}


def plugin(entity: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in entity["plugins"] if p["name"] == name]
    assert len(found) == 1, f"{entity['name']} has {len(found)} {name!r} plugins"
    return found[0]


def python_regex(kong_path: str) -> re.Pattern[str]:
    assert kong_path.startswith("~") and kong_path.endswith("$")
    return re.compile("^" + kong_path[1:].replace("(?<", "(?P<"))  # Kong anchors regex paths at the start


def kong_route(config: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route Kong picks for a request, and its captures: highest regex_priority among matches."""
    candidates = []
    for route in routes(config).values():
        if method not in route["methods"]:
            continue
        for kong_path in route["paths"]:
            match = python_regex(kong_path).match(path)
            if match:
                candidates.append((route["regex_priority"], route["name"], match.groupdict()))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -c[0])
    assert len(candidates) == 1 or candidates[0][0] > candidates[1][0], f"ambiguous: {candidates}"
    return candidates[0][1], candidates[0][2]


def forwarded_path(config: dict[str, Any], method: str, path: str) -> str:
    """The upstream path: what request-transformer's replace.uri renders to (set_path replaces it whole)."""
    found = kong_route(config, method, path)
    assert found is not None
    name, captures = found
    uri = plugin(routes(config)[name], "request-transformer")["config"]["replace"]["uri"]
    return re.sub(r'\$\(uri_captures\["(\w+)"\]\)', lambda m: captures[m[1]], uri)


# --- entities ----------------------------------------------------------------------------------------


def test_every_service_route_and_consumer_is_exported(config: dict[str, Any]) -> None:
    snap = snapshot()
    assert config["_format_version"] == "3.0" and config["_transform"] is True
    assert sorted(services(config)) == sorted(s["name"] for s in snap["services"])
    expected_routes = {f"{s['name']}.{r['operation_id']}" for s in snap["services"] for r in s["routes"]}
    assert set(routes(config)) == expected_routes
    assert [c["username"] for c in config["consumers"]] == ["acme-weather-app", "civic-dashboard"]
    acme = config["consumers"][0]
    assert acme["custom_id"] == APP_ACME and acme["id"] == APP_ACME


def test_a_service_carries_upstream_timeouts_and_tags(config: dict[str, Any]) -> None:
    records = services(config)["health.records.v2"]
    assert records["url"] == "https://records.internal"
    assert (records["connect_timeout"], records["read_timeout"], records["write_timeout"]) == (
        2500,
        60000,
        60000,
    )
    assert records["tags"] == ["agora", "agency:health", "api:records"]
    assert dump(config).startswith("# Agora snapshot sha256:5a5a")


def test_routes_are_regex_routes_kept_whole_for_the_rewrite(config: dict[str, Any]) -> None:
    route = routes(config)["commerce.companies.v1.listOfficers"]
    assert route["paths"] == [
        rf"~/commerce/companies/v1(?<agora_path>/companies/(?<company_id>{VALUE}+)/officers)$"
    ]
    assert route["methods"] == ["GET", "HEAD"]
    assert route["protocols"] == ["http", "https"]
    assert route["strip_path"] is False and route["preserve_host"] is False
    assert route["response_buffering"] is False
    assert routes(config)["commerce.companies.v1.createCompany"]["methods"] == ["POST"]


# --- routing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "route", "captures"),
    [
        ("GET", "/commerce/companies/v1/companies/123/officers", "listOfficers", {"company_id": "123"}),
        ("GET", "/commerce/companies/v1/companies/123/filings", "getSection", {"section": "filings"}),
        ("GET", "/commerce/companies/v1/companies/search", "searchCompanies", {}),
        ("GET", "/commerce/companies/v1/companies/123", "getCompany", {"company_id": "123"}),
        ("GET", "/commerce/companies/v1/companies", "listCompanies", {}),
        ("HEAD", "/commerce/companies/v1/companies", "listCompanies", {}),
        ("POST", "/commerce/companies/v1/companies", "createCompany", {}),
        ("GET", "/commerce/companies/v1/files/report.tar.gz", "getFile", {"name": "report", "ext": "tar.gz"}),
        ("GET", "/commerce/companies/v0/companies", "listCompanies", {}),
        ("PUT", "/health/records/v2/records/r-9", "putRecord", {"record_id": "r-9"}),
    ],
)
def test_a_url_reaches_the_route_of_its_operation(
    config: dict[str, Any], method: str, path: str, route: str, captures: dict[str, str]
) -> None:
    found = kong_route(config, method, path)
    assert found is not None
    name, groups = found
    assert name.rsplit(".", 1)[1] == route and path.startswith("/" + "/".join(name.split(".")[:2]))
    assert captures.items() <= groups.items()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/commerce/companies/v1/companies/123/officers/7"),
        ("GET", "/commerce/companies/v1/companies/"),
        ("GET", "/commerce/companies/v1//companies"),
        ("GET", "/commerce/companies/v2/companies"),
        ("GET", "/commerce/companies/v1"),
        ("GET", "/commerce/companies/v10/companies"),
        ("DELETE", "/commerce/companies/v1/companies"),
        ("GET", "/xcommerce/companies/v1/companies"),
        ("GET", "/commerce/companies/v1/companiesX"),
    ],
)
def test_other_urls_reach_no_route(config: dict[str, Any], method: str, path: str) -> None:
    assert kong_route(config, method, path) is None


def test_only_the_operation_regex_matches_an_unambiguous_url(config: dict[str, Any]) -> None:
    url = "/commerce/companies/v1/companies/123/officers"
    matching = {
        name
        for name, route in routes(config).items()
        if any(python_regex(p).match(url) for p in route["paths"])
    }
    # getSection's "/companies/{company_id}/{section}" matches too; its priority is lower.
    assert matching == {"commerce.companies.v1.listOfficers", "commerce.companies.v1.getSection"}
    url = "/commerce/companies/v1/files/a.b"
    assert {n for n, r in routes(config).items() if python_regex(r["paths"][0]).match(url)} == {
        "commerce.companies.v1.getFile"
    }


def test_static_routes_outrank_their_templated_siblings(config: dict[str, Any]) -> None:
    by_op = {n.rsplit(".", 1)[1]: r["regex_priority"] for n, r in routes(config).items() if ".v1." in n}
    assert by_op["searchCompanies"] > by_op["getCompany"]
    assert by_op["listOfficers"] > by_op["getSection"]  # literal "officers" beats "{section}"
    assert by_op["listCompanies"] > 0
    # Leftmost literal wins, as in the gateway's trie: /a/b/{y} before /a/{x}/c.
    left = route_path("/p", "/a/b/{y}").priority
    right = route_path("/p", "/a/{x}/c").priority
    assert left > right
    assert route_path("/p", "/a/{x}").priority > route_path("/p", "/a/{x}.json").priority


def test_upstream_receives_the_operation_path_under_its_base_path(config: dict[str, Any]) -> None:
    assert forwarded_path(config, "GET", "/commerce/companies/v1/companies/123/officers") == (
        "/api/companies/123/officers"
    )
    assert forwarded_path(config, "GET", "/commerce/companies/v1/companies/search") == "/api/companies/search"
    assert forwarded_path(config, "PUT", "/health/records/v2/records/r%209") == "/records/r%209"
    assert kong_route(config, "PUT", "/health/records/v2/records/r%2F9") is None  # issue 14: never routed
    static = plugin(routes(config)["commerce.companies.v1.listCompanies"], "request-transformer")
    assert static["config"] == {"replace": {"uri": "/api/companies"}}  # a literal: no Lua needed


def test_capture_names_are_valid_unique_group_names() -> None:
    names = capture_names(["company-id", "1st", "agora_path", "a" * 40, "a" * 40 + "b", "id", "id"])
    assert names[:3] == ["company_id", "p_1st", "agora_path_2"]
    assert names[5:] == ["id", "id_2"]
    assert len(set(names)) == len(names) and all(len(n) <= 32 for n in names)
    assert all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names)
    rp = route_path("/x/y/v1", "/a.b/{id}/{id}")
    assert rp.path == rf"~/x/y/v1(?<agora_path>/a\.b/(?<id>{VALUE}+)/(?<id_2>{VALUE}+))$"
    assert python_regex(rp.path).match("/x/y/v1/a.b/1/2")
    assert not python_regex(rp.path).match("/x/y/v1/aXb/1/2")


@pytest.mark.parametrize("value", ["X%2Fofficers", "X%2fofficers", "X%5Cofficers", "X%5cy", "X\\y"])
def test_an_encoded_separator_never_matches_a_parameter(value: str) -> None:
    """Issue 14: Kong matches reserved characters still encoded; the upstream would decode `%2F` into
    another operation. The gateway answers 400 (gateway/pipeline/routing.py); the export's routes do not
    match."""
    rp = route_path("/commerce/companies/v1", "/companies/{company_id}")
    regex = python_regex(rp.path)
    assert regex.match("/commerce/companies/v1/companies/RC100001")
    assert regex.match("/commerce/companies/v1/companies/a%20b%C3%A9%25%2e")
    assert not regex.match(f"/commerce/companies/v1/companies/{value}")


# --- plugins -----------------------------------------------------------------------------------------


def test_key_auth_runs_in_agora_s_python_plugin(config: dict[str, Any]) -> None:
    companies = services(config)["commerce.companies.v1"]
    auth = plugin(companies, "agora-key-auth")
    assert auth["config"] == {"key_names": ["apikey", "X-Api-Key"]}
    assert not [p for p in companies["plugins"] if p["name"] == "key-auth"]


def test_key_and_restricted_services_get_key_auth_when_the_snapshot_lists_none() -> None:
    snap = snapshot()
    for service in snap["services"]:
        service["plugins"] = [p for p in service["plugins"] if p["name"] != "key-auth"]
    out = services(to_kong(snap))
    assert plugin(out["commerce.companies.v1"], "agora-key-auth")["config"] == {"key_names": ["apikey"]}
    assert plugin(out["health.records.v2"], "agora-key-auth")
    assert plugin(out["health.records.v2"], "acl")
    assert not [p for p in out["transport.stops.v1"]["plugins"] if "key-auth" in p["name"]]


def test_every_grant_is_an_acl_group_and_the_restricted_service_allows_it(config: dict[str, Any]) -> None:
    acl = plugin(services(config)["health.records.v2"], "acl")
    assert acl["config"] == {"allow": ["grant:health/records"], "hide_groups_header": True}
    by_name = {c["username"]: c for c in config["consumers"]}
    for app in snapshot()["consumers"]:
        groups = [a["group"] for a in by_name[app["username"]].get("acls", [])]
        assert groups == sorted(f"grant:{g['api']}" for g in app["grants"])
        assert set(groups) <= set(acl["config"]["allow"])


def test_every_plan_limit_is_on_the_consumer_s_rate_limiting(config: dict[str, Any]) -> None:
    snap = snapshot()
    top = config["plugins"]
    for app in snap["consumers"]:
        limits = {k: v for k, v in snap["plans"][app["plan"]]["limits"].items() if v is not None}
        mine = [p for p in top if p["name"] == "rate-limiting" and p.get("consumer") == app["username"]]
        plain = [p for p in mine if "service" not in p]
        assert len(plain) == 1
        cfg = plain[0]["config"]
        assert {k: cfg[k] for k in ("second", "minute", "hour", "day", "month") if k in cfg} == limits
        assert cfg["limit_by"] == "consumer" and cfg["fault_tolerant"] is True
        assert cfg["policy"] == "redis"
        assert cfg["redis"] == {"host": "redis", "port": 6380, "database": 2, "timeout": 2000, "ssl": False}
        for grant in app["grants"]:
            grant_limits = {k: v for k, v in snap["plans"][grant["plan"]]["limits"].items() if v is not None}
            scoped = [p for p in mine if p.get("service") == "health.records.v2"]
            assert len(scoped) == 1
            assert {k: v for k, v in scoped[0]["config"].items() if k in grant_limits} == grant_limits
            # the retired major serves no one: no entry for it
            assert not [p for p in mine if p.get("service") == "health.records.v1"]


def test_without_redis_counters_stay_on_each_node() -> None:
    entries = [p for p in to_kong(snapshot())["plugins"] if p["name"] == "rate-limiting"]
    assert entries and all(p["config"]["policy"] == "local" and "redis" not in p["config"] for p in entries)


def test_an_open_api_keeps_cors_ip_restriction_and_an_ip_limit(config: dict[str, Any]) -> None:
    stops = services(config)["transport.stops.v1"]
    cors = plugin(stops, "cors")["config"]
    assert cors["origins"] == ["https://maps.example.org", "https://bus.example.org"]
    assert (cors["methods"], cors["credentials"], cors["max_age"]) == (["GET"], False, 600)
    assert plugin(stops, "ip-restriction")["config"] == {"deny": ["10.0.0.0/8", "192.0.2.7"]}
    limit = plugin(stops, "rate-limiting")["config"]
    assert (limit["minute"], limit["hour"], limit["limit_by"], limit["policy"]) == (100, 1000, "ip", "redis")
    # preflight requests must match a route for the cors plugin to answer them
    assert routes(config)["transport.stops.v1.listStops"]["methods"] == ["GET", "HEAD", "OPTIONS"]
    assert kong_route(config, "OPTIONS", "/transport/stops/v1/stops/42") is not None


def test_a_cors_option_kong_lacks_falls_back_to_the_python_plugin() -> None:
    snap = snapshot()
    stops = next(s for s in snap["services"] if s["name"] == "transport.stops.v1")
    stops["plugins"][0]["config"]["vary_by"] = "origin"
    out = services(to_kong(snap))["transport.stops.v1"]
    assert plugin(out, "agora-cors")["config"]["vary_by"] == "origin"


@pytest.mark.parametrize(
    ("cors", "kong_name"),
    [
        ({"origins": ["https://maps.example.org"], "credentials": True}, "cors"),
        ({"origins": ["https://[a-z]+\\.example\\.org"], "credentials": True}, "cors"),
        ({"origins": ["*"], "credentials": False}, "cors"),
        ({"credentials": False}, "cors"),
        # Kong echoes any Origin with Access-Control-Allow-Credentials here; Agora answers `*` without.
        ({"origins": ["*"], "credentials": True}, "agora-cors"),
        ({"credentials": True}, "agora-cors"),
        ({"origins": [], "credentials": True}, "agora-cors"),
        ({"origins": ["https://maps.example.org", "*"], "allow_credentials": True}, "agora-cors"),
        # Kong matches a regex without ':' against the host only: http://, any port would pass.
        ({"origins": ["[a-z]+\\.example\\.org"], "credentials": False}, "agora-cors"),
        # Kong proxies every preflight upstream; Agora only where the operation declares OPTIONS.
        ({"origins": ["https://maps.example.org"], "preflight_continue": True}, "agora-cors"),
    ],
)
def test_cors_maps_to_kong_s_plugin_only_where_it_means_the_same(
    cors: dict[str, Any], kong_name: str
) -> None:
    snap = snapshot()
    stops = next(s for s in snap["services"] if s["name"] == "transport.stops.v1")
    stops["plugins"][0]["config"] = cors
    out = services(to_kong(snap))["transport.stops.v1"]
    names = [p["name"] for p in out["plugins"]]
    assert kong_name in names and ({"cors", "agora-cors"} - {kong_name}).isdisjoint(names)
    if kong_name == "agora-cors":  # the gateway's own plugin, its config passed through
        assert plugin(out, kong_name)["config"] == cors


def test_body_limit_and_route_plugins(config: dict[str, Any]) -> None:
    companies = services(config)["commerce.companies.v1"]
    assert plugin(companies, "request-size-limiting")["config"] == {
        "allowed_payload_size": 10,
        "size_unit": "megabytes",
    }
    create = routes(config)["commerce.companies.v1.createCompany"]
    # JSON Schema fields reach Kong as JSON text (Kong's schema language has no type for them)
    assert plugin(create, "agora-request-validator")["config"] == {"body": "true"}


def test_a_retired_service_answers_410_pointing_to_its_successor(config: dict[str, Any]) -> None:
    retired = services(config)["health.records.v1"]
    assert [p["name"] for p in retired["plugins"]] == ["request-termination"]  # no key needed to learn it
    term = plugin(retired, "request-termination")["config"]
    assert term["status_code"] == 410 and term["content_type"] == "application/problem+json"
    body = yaml.safe_load(term["body"])
    assert body["status"] == 410 and body["successor"] == "/health/records/v2"
    assert body["type"] == "https://agora.example/problems/gone"
    assert all(r["plugins"] == [] for r in retired["routes"])
    assert kong_route(config, "GET", "/health/records/v1/records/5") == (
        "health.records.v1.getRecord",
        {"agora_path": "/records/5", "id": "5"},
    )


def test_a_sandbox_only_service_answers_from_the_sandbox(config: dict[str, Any]) -> None:
    tickets = services(config)["transport.tickets.v1"]
    assert tickets["url"] == "http://sandbox.agora.invalid"
    listing = plugin(routes(config)["transport.tickets.v1.listTickets"], "request-termination")["config"]
    assert listing == {
        "status_code": 200,
        "content_type": "application/json",
        "body": '{"items":[{"id":"t-1"}]}',
    }
    buying = plugin(routes(config)["transport.tickets.v1.buyTicket"], "request-termination")["config"]
    assert buying["status_code"] == 501
    assert plugin(tickets, "agora-key-auth")  # a sandbox still wants a key
    assert plugin(tickets, "response-transformer")["config"] == {"add": {"headers": ["X-Agora-Sandbox:true"]}}


def test_a_sandbox_example_given_as_a_schema_is_the_gateway_s_sample_without_a_plugin_server() -> None:
    snap = snapshot()
    tickets = next(s for s in snap["services"] if s["name"] == "transport.tickets.v1")
    properties = {"id": {"type": "string", "format": "uuid"}, "n": {"type": "integer"}}
    schema = {"type": "object", "properties": properties}
    tickets["routes"][1]["sandbox"] = {"status": 201, "content_type": "application/json", "schema": schema}
    config = to_kong(snap)
    buying = routes(config)["transport.tickets.v1.buyTicket"]
    answer = plugin(buying, "request-termination")["config"]
    assert (answer["status_code"], answer["content_type"]) == (201, "application/json")
    assert json.loads(answer["body"]) == sample_from_schema(schema)  # what the gateway answers
    assert "agora-sandbox" not in python_plugin_names(config)


def test_a_deprecated_service_announces_itself_as_the_gateway_does(config: dict[str, Any]) -> None:
    transformer = plugin(services(config)["commerce.companies.v0"], "response-transformer")
    assert transformer["config"]["add"]["headers"] == [
        "Deprecation:@0",
        "Sunset:Tue, 30 Jun 2026 00:00:00 GMT",
        'Link:</commerce/companies/changelog/>; rel="deprecation"; type="text/html", '
        '</commerce/companies/v1>; rel="successor-version"',
    ]
    snap = snapshot()
    old = next(s for s in snap["services"] if s["name"] == "commerce.companies.v0")
    old.update(deprecated_at="2025-01-31T12:00:00Z", successor="commerce.companies.v1", changelog=None)
    headers = plugin(services(to_kong(snap))["commerce.companies.v0"], "response-transformer")
    assert headers["config"]["add"]["headers"] == [
        "Deprecation:@1738324800",
        "Sunset:Tue, 30 Jun 2026 00:00:00 GMT",
        'Link:</commerce/companies/v1>; rel="successor-version"',
    ]
    published = services(config)["commerce.companies.v1"]
    assert not [p for p in published["plugins"] if p["name"] == "response-transformer"]


def test_usage_goes_to_agora_through_one_batching_http_log(config: dict[str, Any]) -> None:
    logs = [p for p in config["plugins"] if p["name"] == "http-log"]
    assert len(logs) == 1 and "service" not in logs[0] and "consumer" not in logs[0]
    cfg = logs[0]["config"]
    assert cfg["http_endpoint"] == "http://agora-admin:8001/admin/usage/ingest"
    assert cfg["queue"]["max_batch_size"] > 1 and cfg["queue"]["max_coalescing_delay"] >= 0
    fields = cfg["custom_fields_by_lua"]
    assert fields["request.headers.apikey"] == fields["request.headers.x-api-key"] == "return nil"
    assert fields["request.querystring"] == "return nil"
    assert "agora-snapshot:sha256:" + "5a" * 32 in logs[0]["tags"]
    assert fields["upstream_uri"] == "return nil"  # Kong appends the client's query string to it
    elsewhere = to_kong(snapshot(), metering_endpoint="http://m:1/in")["plugins"]
    assert next(p for p in elsewhere if p["name"] == "http-log")["config"]["http_endpoint"] == "http://m:1/in"


def test_kong_authenticates_to_the_ingest_through_a_vault_reference(config: dict[str, Any]) -> None:
    (log,) = [p for p in config["plugins"] if p["name"] == "http-log"]
    assert log["config"]["headers"] == {
        "Authorization": "{vault://env/agora-ingest-token}",  # the whole value: Kong resolves only that
        "X-Agora-Snapshot": "sha256:" + "5a" * 32,
    }
    other = to_kong(snapshot(), metering_credential="{vault://hcv/agora/ingest-token}")
    assert next(p for p in other["plugins"] if p["name"] == "http-log")["config"]["headers"][
        "Authorization"
    ] == ("{vault://hcv/agora/ingest-token}")
    for clear in ("Bearer agoradm_abcd1234_secret", "Bearer {vault://env/agora-ingest-token}"):
        with pytest.raises(InvalidInput, match="vault reference"):
            to_kong(snapshot(), metering_credential=clear)


def test_kong_answers_carry_the_request_id_and_expose_prometheus_metrics(config: dict[str, Any]) -> None:
    by_name = {p["name"]: p for p in config["plugins"] if "consumer" not in p}
    assert by_name["correlation-id"]["config"] == {
        "header_name": "X-Request-ID",
        "generator": "uuid",
        "echo_downstream": True,
    }
    metrics = by_name["prometheus"]["config"]
    assert metrics["status_code_metrics"] and metrics["latency_metrics"] and not metrics["per_consumer"]
    everywhere = to_kong(snapshot(), python_plugins_everywhere=True)
    assert {"correlation-id", "prometheus"} <= {p["name"] for p in everywhere["plugins"]}


# --- secrets, determinism, modes ---------------------------------------------------------------------


def test_no_credential_digest_prefix_or_e_mail_is_exported(config: dict[str, Any]) -> None:
    text = dump(config)
    for secret in [*DIGESTS, *PREFIXES, *CREDENTIAL_IDS, "dev@acme.example", "maintainer@civic.example"]:
        assert secret not in text
    for consumer in config["consumers"]:  # no keyauth_credentials, jwt_secrets, ... on any consumer
        assert set(consumer) <= {"id", "username", "custom_id", "tags", "acls"}
    assert "digest" not in text and "keyauth_credentials" not in text


def test_the_export_is_deterministic() -> None:
    first = dump(to_kong(snapshot(), redis=REDIS))
    assert dump(to_kong(snapshot(), redis=REDIS)) == first
    rng = random.Random(7)
    for _ in range(5):
        shuffled = copy.deepcopy(snapshot())
        rng.shuffle(shuffled["services"])
        rng.shuffle(shuffled["consumers"])
        for service in shuffled["services"]:
            rng.shuffle(service["routes"])
            rng.shuffle(service["plugins"])
        plans = list(shuffled["plans"].items())
        rng.shuffle(plans)
        shuffled["plans"] = dict(plans)
        assert dump(to_kong(shuffled, redis=REDIS)) == first


def test_the_yaml_round_trips(config: dict[str, Any]) -> None:
    text = dump(config)
    assert yaml.safe_load(text) == config
    assert text.split("\n")[2:4] == ["_format_version: '3.0'", "_transform: true"]


def test_python_plugins_everywhere_maps_every_agora_plugin_to_agora_star() -> None:
    out = to_kong(snapshot(), python_plugins_everywhere=True)
    mechanics = {
        "request-transformer",
        "request-termination",
        "response-transformer",
        "request-size-limiting",
    }
    for service in out["services"]:
        for entity in [service, *service["routes"]]:
            for p in entity["plugins"]:
                assert p["name"].startswith("agora-") or p["name"] in mechanics, (entity["name"], p["name"])
    stops = services(out)["transport.stops.v1"]
    assert {p["name"] for p in stops["plugins"]} >= {
        "agora-cors",
        "agora-ip-restriction",
        "agora-rate-limiting",
    }
    assert plugin(services(out)["health.records.v2"], "agora-access-control")
    # plans are enforced by Agora's plugin, which reads them from the snapshot
    top = {p["name"] for p in out["plugins"]}
    assert top == {"http-log", "correlation-id", "prometheus", "agora-rate-limiting"}


def test_structural_sanity(config: dict[str, Any]) -> None:
    name = re.compile(r"[A-Za-z0-9._~-]+")
    tag = re.compile(r"[\x21-\x2b\x2d\x2e\x30-\x7e]+")  # Kong: printable ASCII but ',' and '/'
    route_names = [r["name"] for s in config["services"] for r in s["routes"]]
    assert len(route_names) == len(set(route_names))
    usernames = {c["username"] for c in config["consumers"]}
    service_names = {s["name"] for s in config["services"]}
    for service in config["services"]:
        assert name.fullmatch(service["name"])
        for entity in [service, *service["routes"]]:
            assert all(tag.fullmatch(t) for t in entity["tags"])
            plugin_names = [p["name"] for p in entity["plugins"]]
            assert len(plugin_names) == len(set(plugin_names)), entity["name"]
            for p in entity["plugins"]:
                assert set(p) <= {"name", "config", "tags"}
        for route in service["routes"]:
            assert name.fullmatch(route["name"])
            assert all(python_regex(p) for p in route["paths"])
            assert 0 <= route["regex_priority"] < 2**32
    scopes = [(p["name"], p.get("consumer"), p.get("service")) for p in config["plugins"]]
    assert len(scopes) == len(set(scopes))
    for p in config["plugins"]:
        assert p.get("consumer") in usernames | {None}
        assert p.get("service") in service_names | {None}
        assert all(tag.fullmatch(t) for t in p["tags"])
        if p["name"] == "rate-limiting":
            limits = [
                p["config"][k] for k in ("second", "minute", "hour", "day", "month") if k in p["config"]
            ]
            assert limits == sorted(limits)  # Kong rejects a longer period with a lower limit


def test_application_names_may_repeat_kong_usernames_may_not() -> None:
    snap = snapshot()
    snap["consumers"][0]["username"] = "acme-weather-app"
    out = to_kong(snap)
    assert sorted(c["username"] for c in out["consumers"]) == sorted(
        f"acme-weather-app-{app}" for app in (APP_ACME, APP_CIVIC)
    )
    assert {p["consumer"] for p in out["plugins"] if "consumer" in p} == {
        c["username"] for c in out["consumers"]
    }


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s["services"][0]["plugins"].append({"name": "evil; rm -rf /", "config": {}}),
        lambda s: s["plans"]["free"]["limits"].update(minute=2000),  # day 1000 < minute 2000
        lambda s: s["consumers"][0].update(plan="platinum"),
        lambda s: s.update(format=2),
        lambda s: s["consumers"][1]["grants"].append({"api": "records", "plan": "free"}),
    ],
)
def test_snapshots_kong_cannot_load_are_refused(damage: Any) -> None:
    snap = snapshot()
    damage(snap)
    with pytest.raises(InvalidInput):
        to_kong(snap)


def test_a_redis_password_must_be_a_vault_reference() -> None:
    with pytest.raises(InvalidInput):
        RedisTarget(host="redis", password="hunter2")
    ref = "{vault://env/agora-redis-password}"
    assert RedisTarget(host="redis", password=ref).kong_config()["redis"]["password"] == ref


# --- plugin servers ----------------------------------------------------------------------------------


def test_each_python_plugin_gets_its_own_plugin_server(config: dict[str, Any]) -> None:
    names = python_plugin_names(config)
    assert names == ["agora-key-auth", "agora-request-validator"]
    env = plugin_server_settings(names)
    assert env["KONG_PLUGINS"] == "bundled,agora-key-auth,agora-request-validator"
    assert env["KONG_PLUGINSERVER_NAMES"] == "agora-key-auth,agora-request-validator"
    assert env["KONG_PLUGINSERVER_AGORA_KEY_AUTH_SOCKET"] == "/usr/local/kong/agora-key-auth.sock"
    assert (
        env["KONG_PLUGINSERVER_AGORA_KEY_AUTH_START_CMD"] == "/usr/local/bin/agora-kong-plugin agora-key-auth"
    )
    assert env["KONG_PLUGINSERVER_AGORA_KEY_AUTH_QUERY_CMD"] == (
        "/usr/local/bin/agora-kong-plugin agora-key-auth --dump"
    )
    assert len(env) == 2 + 3 * len(names)
    assert plugin_server_settings([]) == {"KONG_PLUGINS": "bundled"}
    with pytest.raises(ValueError):
        plugin_server_settings(["agora-x; reboot"])


# --- a snapshot compiled from a real registry --------------------------------------------------------


def test_a_compiled_registry_snapshot_exports_without_its_secrets(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with change(sessions) as session:
        for slug in ("cadastre", "commerce", "meteo"):
            factories.agency(session, slug)
        factories.example_api(session, "addresses", "cadastre", AccessLevel.OPEN)
        factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        warnings = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        plan = factories.plan(session)
        app = factories.application(session, plan)
        _, secret = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        grant = grants.request_access(session, application=app, api=warnings, plan=plan, actor="t")
        grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="t")
    with sessions() as session:
        doc = compile_snapshot(session)

    config = to_kong(doc, redis=REDIS)
    text = dump(config)
    credentials = [c for consumer in doc["consumers"] for c in consumer["credentials"]]
    assert credentials and secret not in text
    assert not [c for c in credentials if c["digest"] in text or c["prefix"] in text]
    assert {s["name"] for s in config["services"]} == {s["name"] for s in doc["services"]}
    assert len(routes(config)) == sum(len(s["routes"]) for s in doc["services"])
    warnings_service = services(config)["meteo.warnings.v1"]
    assert plugin(warnings_service, "acl")["config"]["allow"] == ["grant:meteo/warnings"]
    assert config["consumers"][0]["acls"] == [{"group": "grant:meteo/warnings", "tags": ["agora"]}]
    for service in doc["services"]:
        for route in service["routes"]:
            concrete = re.sub(r"\{[^}/]+\}", "x1", service["prefix"] + route["path"])
            found = kong_route(config, route["method"], concrete)
            assert found is not None and found[0].startswith(service["name"] + "."), (concrete, found)
