"""Issue 14, item 3: an upstream named by a DNS name is checked when the gateway connects, against the
address the name resolves to then (publication could not know it: DNS rebinding)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agora.addresses import connect_check
from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import call
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings


def _answer(upstream: str, allowed: tuple[str, ...] = ()) -> Any:
    doc = {"format": 1, "services": [{"name": "a.b.v1", "prefix": "/a/b/v1", "upstream": upstream,
                                      "routes": [{"method": "GET", "path": "/p"}]}]}  # fmt: skip
    registry = PluginRegistry()
    settings = GatewaySettings(allowed_upstream_hosts=allowed, health_checks=False)
    gateway = create_app(settings, registry=registry, config=compile_snapshot(doc, registry), health=False)

    async def run() -> Any:
        await gateway.startup()
        try:
            return await call(gateway, "GET", "/a/b/v1/p")
        finally:
            await gateway.shutdown()

    return asyncio.run(run())


def test_a_name_resolving_to_loopback_is_refused_at_connect_time() -> None:
    answer = _answer("http://localhost:9")
    assert answer.status == 502
    assert "refused" in json.loads(answer.body)["detail"] and "127.0.0.1" in json.loads(answer.body)["detail"]


def test_the_operator_may_allow_it() -> None:
    answer = _answer("http://localhost:9", allowed=("localhost",))
    assert answer.status == 502  # port 9 answers nobody: the connection itself was tried this time
    assert "resolved to" not in json.loads(answer.body)["detail"]


def test_literal_addresses_were_judged_at_publication() -> None:
    check = connect_check(())
    assert check("127.0.0.1", "127.0.0.1") is None and check("[::1]", "::1") is None
    assert check("metadata.example", "169.254.169.254") is not None
    assert check("api.example", "93.184.216.34") is None
