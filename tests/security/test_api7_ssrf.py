"""API7:2023 Server Side Request Forgery.

An agency publishes its upstream URL; the gateway then calls it from inside the platform's network. So
publication refuses upstreams in link-local, metadata, private, shared and reserved ranges unless an
operator allow-list (`AGORA_ALLOWED_UPSTREAM_HOSTS`) names them. The basic cases (169.254.169.254,
10.0.0.5, fe80::1, metadata.google.internal, the allow-list) are tests/registry/services/test_publish.py;
here the spellings that slip past a naive check, through the admin API as an agency admin would send them.
"""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from agora.settings import Settings
from registry.admin.app import create_admin_app
from tests.registry.admin.conftest import World

SPEC = (
    '{"openapi": "3.0.3", "info": {"title": "Probe", "version": "1.0.0"}, "paths": {"/x": {"get": '
    '{"operationId": "x", "responses": {"200": {"description": "ok"}}}}}}'
)

REFUSED = [
    "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
    "http://0xa9fea9fe/",  # ... in hexadecimal
    "http://0251.0376.0251.0376/",  # ... in octal
    "http://169.254.43518/",  # ... with the last two bytes as one number
    "http://169.254.169.254./",  # ... with a trailing dot
    "http://[::ffff:169.254.169.254]/",  # ... mapped into IPv6
    "http://[2002:a9fe:a9fe::1]/",  # ... inside a 6to4 address
    "http://100.100.100.200/",  # Alibaba Cloud's metadata service (shared 100.64.0.0/10)
    "http://metadata.google.internal./computeMetadata/v1/",  # a metadata name with a trailing dot
    "http://10.1/",  # 10.0.0.1, short form
    "http://[fd12:3456::1]/",  # IPv6 unique local
    "http://0.0.0.0:8080/",  # "this host"
    "http://0/",  # ... as one number
    "http://192.0.2.10/",  # reserved for documentation
    "http://user:pass@api.example.gov/",  # credentials in the URL
    "file:///etc/passwd",  # not http(s)
    "gopher://127.0.0.1:6379/_FLUSHALL",
    # issue 14, item 3: loopback, which published the gateway's own /metrics to anonymous callers
    "http://127.0.0.1:8100/metrics",
    "http://localhost:8001/",
    "http://LOCALHOST./",
    "http://[::1]:8100/",
    "http://127.1:8100/",
    "http://2130706433:8100/",
    "http://0x7f000001:8100/",
    "http://0177.0.0.1:8100/",
    "http://[::ffff:127.0.0.1]:8100/",
    "http://[64:ff9b::7f00:1]:8100/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b:1::a00:5]/",  # local-use NAT64
    "http://[2002:7f00:1::]:8100/",  # 6to4 of 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "http://\uff11\uff12\uff17.0.0.1:8100/",  # fullwidth digits
    "http://127\u30020\u30020\u30021:8100/",  # ideographic full stops
    "http://[fe80::1%25eth0]/",  # an interface zone
]


def _publish(client: TestClient, headers: dict[str, str], upstream: str) -> int:
    body = {"spec": SPEC, "upstream": upstream, "api": "probe", "accept_findings": True}
    return client.post("/admin/agencies/cadastre/apis", headers=headers, json=body).status_code


@pytest.mark.parametrize("upstream", REFUSED)
def test_upstreams_reaching_inside_are_refused_at_publication(world: World, upstream: str) -> None:
    assert _publish(world.client, world.admin_a, upstream) == 422
    apis = world.client.get("/admin/apis?agency=cadastre", headers=world.admin_a).json()
    assert [a["slug"] for a in apis] == ["addresses"], "nothing of a refused publication is stored"


def test_public_upstreams_are_accepted(world: World) -> None:
    assert _publish(world.client, world.admin_a, "https://api.example.gov/v1") == 201


def test_loopback_only_when_the_operator_names_it(world: World, settings: Settings) -> None:
    allowing = dataclasses.replace(settings, allowed_upstream_hosts=("127.0.0.1",))
    sessions = world.client.app.state.agora.sessions  # type: ignore[attr-defined]
    with TestClient(create_admin_app(allowing, sessions)) as client:
        assert _publish(client, world.admin_a, "http://[::1]:9101/") == 422, "only the named address"
        assert _publish(client, world.admin_a, "http://127.1:9101/") == 201, "another spelling of it"
        (version,) = client.get("/admin/agencies/cadastre/apis/probe", headers=world.admin_a).json()[
            "versions"
        ]
    detail = world.client.get(
        f"/admin/agencies/cadastre/apis/probe/versions/{version['version']}", headers=world.admin_a
    ).json()
    assert detail["upstream_url"] == "http://127.0.0.1:9101", "stored as checked"


def test_the_operator_allow_list_names_exact_hosts(world: World, settings: Settings) -> None:
    allowing = dataclasses.replace(settings, allowed_upstream_hosts=("10.20.30.40",))
    sessions = world.client.app.state.agora.sessions  # type: ignore[attr-defined]
    with TestClient(create_admin_app(allowing, sessions)) as client:
        assert _publish(client, world.admin_a, "http://10.20.30.41/") == 422, "only the named host"
        assert _publish(client, world.admin_a, "http://10.20.30.40:8443/") == 201
