"""What plugins needed from the host: a shutdown hook, clearing upstream headers, rewriting the upstream
query, and looking up a consumer (Kong's `anonymous`)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.errors import BadGateway
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.pipeline.usage import RequestFacts
from gateway.settings import GatewaySettings
from gateway.upstream.transport import UpstreamRequest
from tests.gateway.test_gateway_plugin_host import EchoResponse, EchoTransport, plugin_module


def test_module_shutdown_hooks_run_once_on_shutdown() -> None:
    calls: list[str] = []

    async def async_hook() -> None:
        calls.append("async")

    def failing_hook() -> None:
        calls.append("failing")
        raise RuntimeError("a broken plugin does not stop the others")

    registry = PluginRegistry()
    registry.register("a", SimpleNamespace(**vars(plugin_module(object)), shutdown=async_hook))
    registry.register("b", SimpleNamespace(**vars(plugin_module(object)), shutdown=failing_hook))
    registry.register(
        "c", SimpleNamespace(**vars(plugin_module(object)), shutdown=lambda: calls.append("sync"))
    )
    registry.register("d", plugin_module(object))  # no hook
    gateway = create_app(
        GatewaySettings(), registry=registry, config=compile_snapshot({"format": 1}, registry)
    )

    async def lifespan() -> None:
        await gateway.startup()
        await gateway.shutdown()

    asyncio.run(lifespan())
    assert calls == ["async", "failing", "sync"]


class Rewriter:
    found: dict[str, Any] = {}  # noqa: RUF012  (a test probe)

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        kong.service.request.clear_header("X-Secret")
        kong.service.request.clear_header("X-Consumer-ID")
        kong.service.request.set_raw_query("kept=1&b=%2F")
        Rewriter.found["by_id"] = kong.agora.find_consumer("app-1")
        Rewriter.found["by_name"] = kong.agora.find_consumer("acme")
        Rewriter.found["missing"] = kong.agora.find_consumer("nobody")


def test_clear_header_set_raw_query_and_find_consumer() -> None:
    registry = PluginRegistry()
    registry.register("rewriter", plugin_module(Rewriter))
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.api.v1",
                "prefix": "/gov/api/v1",
                "upstream": "http://127.0.0.1:9",
                "plugins": [{"name": "rewriter"}],
                "routes": [{"method": "GET", "path": "/items"}],
            }
        ],
        "consumers": [{"id": "app-1", "username": "acme"}, {"id": "app-2", "username": "app-1x"}],
    }
    upstream = EchoTransport()
    gateway = create_app(
        GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry), transport=upstream
    )

    async def call() -> httpx.Response:
        transport = HandlerTransport(gateway, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            headers = {"X-Secret": "s", "x-consumer-id": "spoofed", "X-Other": "o"}
            return await client.get("/gov/api/v1/items?apikey=k&kept=1&b=%2F", headers=headers)

    assert asyncio.run(call()).status_code == 200
    sent = upstream.requests[0]
    names = {name.lower() for name, _ in sent.headers}
    assert "x-secret" not in names and "x-consumer-id" not in names and "x-other" in names
    assert sent.url == "http://127.0.0.1:9/items?kept=1&b=%2F"
    assert Rewriter.found["by_id"]["username"] == "acme"
    assert Rewriter.found["by_name"]["id"] == "app-1"
    assert Rewriter.found["missing"] is None


def test_serialized_facts_are_a_fresh_dict_of_every_field() -> None:
    facts = RequestFacts(
        "r-1", "GET", "/gov/api/v1/items", 200, "gov.api.v1", "getItem", "app", "cred", "203.0.113.9",
        10, 20, 3.5, 1.25, False, 1_700_000_000.0,
    )  # fmt: skip
    shallow = facts.as_dict()
    assert list(shallow) == list(RequestFacts._fields) and shallow["consumer"] == "app"
    assert shallow["started_at"] == 1_700_000_000.0 and shallow["sandbox"] is False
    shallow["status"] = 500
    assert facts.as_dict()["status"] == 200


class QueryReader:
    seen: dict[str, Any] = {}  # noqa: RUF012  (a test probe)

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        QueryReader.seen = {"query": kong.request.get_query(), "a0": kong.request.get_query_arg("a0")}


def _get_through(plugin: type, path: str, upstream: type[EchoTransport] = EchoTransport) -> httpx.Response:
    """One GET through a gateway whose service `/gov/api/v1` (route GET /items) runs `plugin` alone."""
    registry = PluginRegistry()
    registry.register("probe", plugin_module(plugin))
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.api.v1",
                "prefix": "/gov/api/v1",
                "upstream": "http://127.0.0.1:9",
                "plugins": [{"name": "probe"}],
                "routes": [{"method": "GET", "path": "/items"}],
            }
        ],
    }
    config = compile_snapshot(doc, registry)
    gateway = create_app(GatewaySettings(), registry=registry, config=config, transport=upstream())

    async def call() -> httpx.Response:
        transport = HandlerTransport(gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_a_long_query_gives_its_first_arguments_not_an_error() -> None:
    query = "&".join(f"a{i}={i}" for i in range(150))
    assert _get_through(QueryReader, "/gov/api/v1/items?" + query).status_code == 200
    assert len(QueryReader.seen["query"]) == 100 and QueryReader.seen["query"]["a99"] == "99"
    assert QueryReader.seen["a0"] == "0"


class HeaderSetter:
    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        kong.response.set_header("X-Kept", "1")
        kong.response.set_header("X-Limit", "old")
        kong.response.set_headers({"X-Limit": 10, "x-remaining": 9})

    def response(self, kong: Any) -> None:
        # In the response phase the upstream's own headers are there too: set_headers replaces them.
        kong.response.set_headers({"X-Up": "replaced", "X-Added": "yes"})


def test_set_headers_sets_each_once_replacing_what_was_there() -> None:
    answer = _get_through(HeaderSetter, "/gov/api/v1/items")  # the echo upstream answers `x-up: 1`
    assert answer.status_code == 200
    assert answer.headers.get_list("x-limit") == ["10"] and answer.headers["x-remaining"] == "9"
    assert answer.headers["x-kept"] == "1" and answer.headers["x-added"] == "yes"
    assert answer.headers.get_list("x-up") == ["replaced"]


class RefusingTransport(EchoTransport):
    async def send(self, request: UpstreamRequest) -> EchoResponse:
        raise BadGateway("connection refused")


class SetsHeaders:
    """Access only: no response phase, so the runner adds no send wrapper of its own."""

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        kong.response.set_headers({"X-RateLimit-Limit-Minute": 10, "X-RateLimit-Remaining-Minute": 9})


@pytest.mark.parametrize(("upstream", "status"), [(EchoTransport, 200), (RefusingTransport, 502)])
def test_headers_set_in_access_reach_every_answer_once(upstream: type[EchoTransport], status: int) -> None:
    # As Kong's: rate-limiting's headers are on the upstream's answer and on the gateway's own problems.
    response = _get_through(SetsHeaders, "/gov/api/v1/items", upstream)
    assert response.status_code == status
    assert response.headers.get_list("x-ratelimit-limit-minute") == ["10"]
    assert response.headers.get_list("x-ratelimit-remaining-minute") == ["9"]
    assert len(response.headers.get_list("x-request-id")) == 1
