"""Each plugin takes the same decisions inside Kong (its real kong-pdk plugin server, driven with Kong's
RPC) as in Agora's gateway, for the same requests against the same snapshot.

Both sides run every plugin of the route in priority order, sharing the request's state as their
gateway does (Kong: `kong.client.authenticate`, `kong.ctx.shared` across the plugin servers).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from registry.compile.kong import python_plugin_names, to_kong
from tests.plugins.helpers import HMAC_HEX, consumer, credential, route, service, snapshot

from .kong_rpc import Rpc, start_server, stop_server
from .parity_stack import AgoraSide, KongSide, Request

pytestmark = pytest.mark.integration

PORTAL = "https://portal.example.gov"
APP_ACME, APP_OTHER = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11", "1f2e3d4c-5b6a-4789-8abc-def012345678"
KEYS: dict[str, str] = {}
PLAN_LIMITS = {"name": "rate-limiting", "config": {"limit_by": "consumer", "policy": "local"}}
KEY_AUTH = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
BODY_LIMIT = {
    "name": "request-size-limiting",
    "config": {"allowed_payload_size": 1, "size_unit": "kilobytes", "require_content_length": True},
}
ORIGIN = "https://maps.example.org"
EXAMPLE = {"status": 200, "content_type": "application/json", "body": {"sandbox": True}}
# What a scenario compares; a sandbox key is let through by both, but only Agora's gateway then answers
# from the API's examples (docs/kong.md, differences): the plugins' decision is status and headers.
ONLY_PLUGIN_HEADERS = {"access-control/sandbox-key"}
VALIDATOR = {
    "name": "request-validator",
    "config": {
        "openapi": "3.0",
        "parameters": [
            {"name": "company_id", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[0-9]{8}$"}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "maximum": 100}},
        ],
        "body": None,
    },
}  # fmt: skip
BODY_VALIDATOR = {
    "name": "request-validator",
    "config": {
        "openapi": "3.0",
        "parameters": [],
        "body": {
            "required": True,
            "content": {"application/json": {"type": "object", "required": ["name"],
                                             "properties": {"name": {"type": "string"}}}},
        },
    },
}  # fmt: skip


def document() -> dict[str, Any]:
    KEYS["acme"], acme = credential("cred-acme")
    KEYS["other"], other = credential("cred-other")
    KEYS["sandbox"], sandbox = credential("cred-sandbox", sandbox=True)
    KEYS["expired"], expired = credential("cred-expired", expires_in=timedelta(seconds=-1))
    up = "http://upstream.invalid"
    doc = snapshot(
        [
            service(
                "gov.keyed.v1", up, [route("GET", "/items/{item_id}"), route("GET", "/items")], access="key",
                plugins=[KEY_AUTH, PLAN_LIMITS],
            ),
            service(
                "gov.restricted.v1", up, [route("GET", "/records", sandbox=EXAMPLE)], access="restricted",
                plugins=[KEY_AUTH, {"name": "access-control", "config": {}},
                         PLAN_LIMITS],
            ),
            service(
                # Kong's require_content_length refuses a GET too (no Content-Length, not chunked):
                # the body limit sits on the POST operation only.
                "gov.open.v1", up, [route("GET", "/stops"), route("POST", "/stops", plugins=[BODY_LIMIT])],
                plugins=[
                    {"name": "cors", "config": {"origins": [ORIGIN], "credentials": True, "max_age": 600,
                                                "exposed_headers": ["X-Total"]}},
                    {"name": "ip-restriction", "config": {"deny": ["10.0.0.0/8"]}},
                    {"name": "rate-limiting", "config": {"limit_by": "ip", "policy": "local",
                                                         "limits": {"minute": 3, "hour": None}}},
                ],
            ),
            service(
                "gov.validated.v1", up,
                [route("GET", "/companies/{company_id}", plugins=[VALIDATOR]),
                 route("POST", "/companies", plugins=[BODY_VALIDATOR])],
            ),
            service(
                "gov.tokens.v1", up, [route("GET", "/me")],
                plugins=[{"name": "jwt", "config": {"issuers": [
                    {"issuer": "https://idp.example", "jwks_uri": "http://127.0.0.1:9/jwks",
                     "audiences": ["gov"]}
                ]}}],
            ),
        ]
    )  # fmt: skip
    doc["consumers"] = [
        consumer(APP_ACME, "acme", [acme, expired], plan="free", grants=["gov/restricted"]),
        consumer(APP_OTHER, "other", [other, sandbox], plan="free"),
    ]
    doc["plans"] = {
        "free": {"name": "Free", "limits": {"minute": 2}},
        "gov-restricted-plan": {"name": "Partner", "limits": {"minute": 50}},
    }
    return doc


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AgoraSide, KongSide]]:
    doc = document()
    config = to_kong(doc, python_plugins_everywhere=True)
    where = tmp_path_factory.mktemp("kong")
    (where / "snapshot.json").write_text(json.dumps(doc))
    env = {
        "AGORA_HMAC_KEY": HMAC_HEX,
        "AGORA_SNAPSHOT": str(where / "snapshot.json"),
        "AGORA_PORTAL_URL": PORTAL,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    names = python_plugin_names(config)
    processes = {}
    try:
        for name in names:  # started together: each import takes a while
            processes[name] = start_server(name, where, env)
        servers, phases = {}, {}
        for name in names:
            rpc = Rpc(where / f"{name}.sock")
            info = rpc.call("plugin.GetPluginInfo", name)
            servers[name], phases[name] = (rpc, int(info["Priority"])), list(info["Phases"])
        yield AgoraSide(doc), KongSide(config, servers, phases=phases)
        for rpc, _ in servers.values():
            rpc.close()
    finally:
        for process in processes.values():
            stop_server(process)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def call(method: str, path: str, *, key: str | None = None, query: str = "", **extra: Any) -> Any:
    """A request made when the scenario runs (keys exist once the fixture built the snapshot);
    `{acme}` in the query stands for that application's key."""

    def make() -> Request:
        headers = tuple(extra.pop("headers", ())) + ((("apikey", KEYS[key]),) if key else ())
        return Request(method, path, query=query.format(**KEYS), headers=headers, **extra)

    return make


KEYED, OPEN, VALID = "/gov/keyed/v1/items", "/gov/open/v1/stops", "/gov/validated/v1/companies"
RESTRICTED = "/gov/restricted/v1/records"
PREFLIGHT = (
    ("Origin", ORIGIN),
    ("Access-Control-Request-Method", "GET"),
    ("Access-Control-Request-Headers", "x-b"),
)
JSON = (("Content-Type", "application/json"),)
UNKNOWN_ISSUER = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL290aGVyIn0.c2ln"
SCENARIOS: dict[str, list[Any]] = {
    "key-auth/no-key": [call("GET", KEYED + "/1")],
    "key-auth/wrong-key": [call("GET", KEYED + "/1", headers=(("apikey", "agora_00000000_x"),))],
    "key-auth/valid-header-key": [call("GET", KEYED + "/1", key="acme")],
    "key-auth/valid-query-key-hidden": [call("GET", KEYED, query="q=a%20b&apikey={other}&page=2")],
    "key-auth/expired-key": [call("GET", KEYED + "/1", key="expired")],
    "key-auth/duplicate-key": [call("GET", KEYED, query="apikey={acme}&apikey={acme}")],
    "access-control/granted": [call("GET", RESTRICTED, key="acme")],
    "access-control/not-granted": [call("GET", RESTRICTED, key="other")],
    "access-control/sandbox-key": [call("GET", RESTRICTED, key="sandbox")],
    "rate-limiting/plan-per-consumer": [call("GET", KEYED, key="other")] * 3,
    "rate-limiting/limits-per-ip": [call("GET", OPEN, client_ip="198.51.100.7")] * 4,
    "cors/preflight-allowed": [call("OPTIONS", OPEN, headers=PREFLIGHT)],
    "cors/preflight-refused": [
        call("OPTIONS", OPEN, headers=(("Origin", "https://evil.example"), *PREFLIGHT[1:]))
    ],
    "cors/simple-request": [call("GET", OPEN, headers=(("Origin", ORIGIN),), client_ip="198.51.100.8")],
    "ip-restriction/denied": [call("GET", OPEN, client_ip="10.1.2.3")],
    "ip-restriction/allowed": [call("GET", OPEN, client_ip="192.0.2.99")],
    "request-size-limiting/too-large": [
        call("POST", OPEN, headers=(("Content-Length", "2048"),), body=b"x" * 2048, client_ip="192.0.2.50")
    ],
    "request-size-limiting/small": [
        call("POST", OPEN, headers=(("Content-Length", "10"),), body=b"x" * 10, client_ip="192.0.2.51")
    ],
    "request-size-limiting/expect-continue": [
        call(
            "POST",
            OPEN,
            headers=(("Content-Length", "2048"), ("Expect", "100-continue")),
            client_ip="192.0.2.52",
        )
    ],
    "request-validator/valid": [call("GET", VALID + "/12345678", query="limit=10")],
    "request-validator/invalid-path-and-query": [call("GET", VALID + "/abc", query="limit=500")],
    "request-validator/body-missing-member": [call("POST", VALID, headers=JSON, body=b'{"nom": 1}')],
    "request-validator/body-valid": [call("POST", VALID, headers=JSON, body=b'{"name": "x"}')],
    "jwt/no-token": [call("GET", "/gov/tokens/v1/me")],
    "jwt/unknown-issuer": [call("GET", "/gov/tokens/v1/me", headers=(("Authorization", UNKNOWN_ISSUER),))],
}


def _away_from_a_minute_boundary() -> None:
    # Fixed windows restart each minute: a sequence must not straddle a boundary on one side only.
    if time.time() % 60 > 55:
        time.sleep(60 - time.time() % 60 + 0.1)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_kong_and_the_gateway_decide_alike(sides: tuple[AgoraSide, KongSide], scenario: str) -> None:
    agora, kong = sides
    requests = [make() for make in SCENARIOS[scenario]]
    _away_from_a_minute_boundary()
    on_agora = [agora.send(r) for r in requests]
    on_kong = [kong.send(r) for r in requests]
    if scenario in ONLY_PLUGIN_HEADERS:
        on_agora = [{k: d[k] for k in ("status", "headers")} for d in on_agora]
        on_kong = [{k: d[k] for k in ("status", "headers")} for d in on_kong]
    assert on_kong == on_agora
    statuses = [d["status"] for d in on_agora]
    print(f"\n{scenario}: {statuses} {[sorted(d['headers']) for d in on_agora][-1]}")  # the report's table
    if "rate-limiting" in scenario:
        assert statuses[-1] == 429 and statuses[0] == 200  # the scenario does reach the limit
