"""Issue 14, item 2: an encoded '/' reached operations the route did not match. `/companies/X%2Fofficers`
matched `/companies/{company_id}`, went upstream raw, and the upstream decoded it into `/officers`: that
operation's ip-restriction (403 on the plain path) never ran. Now a path with an encoded separator is
refused (400) before any plugin or upstream call; the Kong export's routes do not match it either
(tests/registry/compile/test_kong.py::test_an_encoded_separator_never_matches_a_parameter)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import call
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from gateway.upstream.transport import UpstreamRequest

PREFIX = "/commerce/companies/v1"


class Recording:
    def __init__(self) -> None:
        self.urls: list[str] = []

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: UpstreamRequest) -> Any:
        self.urls.append(request.url)
        raise AssertionError("no request of this test may reach the upstream")


def _gateway(upstream: Recording) -> Any:
    deny = {"name": "ip-restriction", "config": {"deny": ["127.0.0.1"]}}
    doc = {"format": 1, "services": [{
        "name": "commerce.companies.v1", "prefix": PREFIX, "upstream": "http://upstream.example",
        "routes": [{"method": "GET", "path": "/companies/{company_id}"},
                   {"method": "GET", "path": "/companies/{company_id}/officers", "plugins": [deny]}],
    }]}  # fmt: skip
    registry = PluginRegistry.discover("plugins")
    config = compile_snapshot(doc, registry)
    return create_app(GatewaySettings(), registry=registry, config=config, transport=upstream, health=False)


def test_the_protected_operation_refuses_on_the_plain_path() -> None:
    upstream = Recording()
    answer = asyncio.run(call(_gateway(upstream), "GET", f"{PREFIX}/companies/X/officers"))
    assert answer.status == 403 and upstream.urls == []


@pytest.mark.parametrize(
    "value", ["X%2Fofficers", "X%2fofficers", "X%5Cofficers", "X%5cofficers", "X\\officers"]
)
def test_an_encoded_separator_never_reaches_another_operation(value: str) -> None:
    upstream = Recording()
    answer = asyncio.run(call(_gateway(upstream), "GET", f"{PREFIX}/companies/{value}"))
    assert answer.status == 400 and upstream.urls == []
    assert answer.header(b"content-type") == b"application/problem+json"
