"""Kong's metering, end to end: the exported `http-log` posts Kong's own batch to the admin API.

The batch is what Kong 3.9's log serializer (`kong/pdk/log.lua`, `serialize`) produces for calls
through Agora's export, before any `custom_fields_by_lua` (the worst case: a key sent as a query
argument is still in `request.uri`, `request.url`, `request.querystring` and `upstream_uri`). The
headers are the http-log plugin's `headers`, with the vault reference resolved the way Kong's env
vault does (`kong/vaults/env/init.lua`: upper-cased, `-` -> `_`).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry.compile.kong import to_kong
from registry.compile.snapshot import compile_snapshot
from registry.models import UsageRecord
from registry.unit_of_work import read
from tests.registry.admin.conftest import World

URL = "/admin/usage/ingest"
KEY = "agora_k3yInTheQu3ry_0123456789abcdef"
APP = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11"


def kong_log_entry(n: int, *, key_in: str) -> dict[str, Any]:
    """One entry as Kong 3.9 serializes it for `GET /cadastre/addresses/v1/addresses/{n}?apikey=...`."""
    query = f"apikey={KEY}&lang=en" if key_in == "query" else "lang=en"
    uri = f"/cadastre/addresses/v1/addresses/{n}?{query}"
    headers = {"host": "api.example.gov", "user-agent": "curl/8.5.0", "accept": "*/*"}
    if key_in == "header":
        headers["apikey"] = KEY
    service = {
        "id": "2f1f0c56-5e8a-4f0e-9d1e-5b8b3f6b7c01", "name": "cadastre.addresses.v1",
        "host": "addresses.internal", "port": 9000, "protocol": "http", "path": "/", "retries": 0,
        "connect_timeout": 5000, "read_timeout": 30000, "write_timeout": 30000, "enabled": True,
        "tags": ["agora", "agency:cadastre", "api:addresses"], "created_at": 1_764_800_000,
        "updated_at": 1_764_800_000, "ws_id": "0dc6f45b-8f8d-40d2-a504-473544ee190b",
    }  # fmt: skip
    route = {
        "id": "5b0f7d2e-9a3c-4e51-8f27-1d2c3b4a5e6f", "name": "cadastre.addresses.v1.getAddress",
        "paths": ["~/cadastre/addresses/v1(?<agora_path>/addresses/(?<id>[^/]+))$"],
        "methods": ["GET", "HEAD"], "protocols": ["http", "https"], "regex_priority": 21,
        "strip_path": False, "preserve_host": False, "request_buffering": True, "response_buffering": False,
        "https_redirect_status_code": 426, "path_handling": "v0", "service": {"id": service["id"]},
        "tags": ["agora", "agency:cadastre", "api:addresses"], "ws_id": service["ws_id"],
    }  # fmt: skip
    return {
        "request": {
            "id": f"7a1c0e5f3b2d4c6e8f9a0b1c2d3e4f{n:02d}",
            "uri": uri,
            "url": f"http://api.example.gov:8000{uri}",
            "querystring": dict(p.split("=", 1) for p in query.split("&")),
            "method": "GET",
            "headers": headers,
            "size": 187,
        },
        "upstream_uri": f"/addresses/{n}?{query}",
        "upstream_status": "200",
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json", "content-length": "96", "via": "1.1 kong/3.9.1"},
            "size": 412,
        },
        "latencies": {"kong": 3, "proxy": 7, "request": 11, "receive": 0},
        "tries": [{"ip": "10.0.0.12", "port": 9000, "balancer_start": 1764806400001, "balancer_latency": 0}],
        "authenticated_entity": {"id": "0d6c7f0e-1111-4a4a-9b9b-000000000001"},
        "route": route,
        "service": service,
        "consumer": {
            "id": APP,
            "custom_id": APP,
            "username": "acme-weather-app",
            "tags": ["agora", "plan:free"],
            "created_at": 1_764_800_000,
        },
        "client_ip": "203.0.113.77",
        "started_at": 1_764_806_400_000 + n,
        "source": "upstream",
        "workspace": service["ws_id"],
        "workspace_name": "default",
    }


def http_log(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with read(sessions) as session:
        snapshot = compile_snapshot(session)
    config = to_kong(snapshot)
    (plugin,) = [p for p in config["plugins"] if p["name"] == "http-log"]
    return dict(plugin["config"])


def kong_headers(config: dict[str, Any], environment: dict[str, str]) -> dict[str, str]:
    """The plugin's headers as Kong sends them: a value that is a whole env-vault reference resolved."""
    out = {"Content-Type": config["content_type"]}
    for name, value in config["headers"].items():
        ref = re.fullmatch(r"\{vault://env/([^{}]+)\}", value)
        out[name] = environment[ref.group(1).upper().replace("-", "_")] if ref else value
    return out


def stored(sessions: sessionmaker[Session]) -> list[UsageRecord]:
    with sessions() as session:
        return list(session.scalars(select(UsageRecord).order_by(UsageRecord.request_id)))


def test_kong_s_batch_is_metered_once_without_any_key(world: World, sessions: sessionmaker[Session]) -> None:
    config = http_log(sessions)
    assert config["http_endpoint"].endswith(URL) and config["method"] == "POST"
    # The file names the credential, never holds it: the Authorization value is a vault reference.
    assert config["headers"]["Authorization"] == "{vault://env/agora-ingest-token}"
    environment = {"AGORA_INGEST_TOKEN": world.ingest["Authorization"]}
    headers = kong_headers(config, environment)
    batch = [kong_log_entry(n, key_in="query" if n % 2 else "header") for n in range(1, 7)]

    response = world.client.post(URL, json=batch, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 6, "inserted": 6, "skipped": 0}
    retried = world.client.post(URL, json=batch, headers=headers)  # Kong's queue retries a failed post
    assert retried.json() == {"received": 6, "inserted": 0, "skipped": 0}

    rows = stored(sessions)
    assert sorted(r.request_id for r in rows) == sorted(e["request"]["id"] for e in batch)
    for row in rows:
        values = {c.name: getattr(row, c.name) for c in UsageRecord.__table__.columns}
        assert not any(KEY in str(v) or "apikey" in str(v) for v in values.values()), values
        assert (row.agency, row.api, row.operation_id) == ("cadastre", "addresses", "getAddress")
        assert (row.status, row.application_id) == (200, APP)
        assert row.client_ip == "203.0.113.0/24"


def test_without_the_ingest_credential_kong_is_refused(world: World, sessions: sessionmaker[Session]) -> None:
    config = http_log(sessions)
    unresolved = {"Content-Type": "application/json", **config["headers"]}  # the vault had no value
    batch = [kong_log_entry(1, key_in="query")]
    for headers in ({"Content-Type": "application/json"}, unresolved):
        response = world.client.post(URL, json=batch, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert stored(sessions) == []


def test_the_ingest_token_can_do_nothing_else(world: World) -> None:
    for url in ("/admin/agencies", "/admin/whoami", "/admin/analytics/usage", "/admin/plans"):
        response = world.client.get(url, headers=world.ingest)
        assert response.status_code == 403, (url, response.text)
        assert "usage-ingest" in response.json()["detail"]
