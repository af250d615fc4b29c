"""What the traffic plugins need from the gateway: CORS preflights routed to the operation they ask
about (405 when no plugin answers), a per-request body limit set by a plugin and enforced by the
proxy while streaming, and `kong.response.clear_header` on the upstream's headers. In process, with
a real aiohttp upstream on loopback and the shipped transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
from aiohttp import web

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.pipeline.forward import BODY_LIMIT
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings

PREFIX = "/gov/traffic/v1"


class Preflights:
    """Answers preflights whose Origin is "https://ok.example"; lets every other request through."""

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        if (
            kong.request.get_method() == "OPTIONS"
            and kong.request.get_header("origin") == "https://ok.example"
        ):
            route = kong.router.get_route()
            kong.response.exit(204, b"", {"X-Asked": ",".join(route["methods"])})


class Lowers:
    """Lowers the body limit to 10 bytes and drops the upstream's X-Secret header."""

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        kong.ctx.shared[BODY_LIMIT] = 10

    def response(self, kong: Any) -> None:
        kong.response.clear_header("X-Secret")


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"method": request.method, "bytes": len(body)}, headers={"X-Secret": "s"})


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part  # no Content-Length: the body streams in pieces


async def _calls(calls: list[tuple[str, str, dict[str, str], Any]]) -> list[httpx.Response]:
    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(upstream)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    registry = PluginRegistry()
    for name, plugin in (("preflights", Preflights), ("lowers", Lowers)):
        registry.register(name, SimpleNamespace(Plugin=plugin, Schema=(), version="1.0.0", priority=1))
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.traffic.v1",
                "prefix": PREFIX,
                "upstream": f"http://127.0.0.1:{runner.addresses[0][1]}",
                "routes": [
                    {"method": "GET", "path": "/cors", "plugins": [{"name": "preflights"}]},
                    {"method": "POST", "path": "/cors", "plugins": []},
                    {"method": "POST", "path": "/small", "plugins": [{"name": "lowers"}]},
                ],
            }
        ],
    }
    gateway = create_app(GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry))
    await gateway.startup()
    try:
        transport = HandlerTransport(gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return [
                await client.request(method, PREFIX + path, headers=headers, content=content)
                for method, path, headers, content in calls
            ]
    finally:
        await gateway.shutdown()
        await runner.cleanup()


def _preflight(origin: str, method: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method}


def test_a_preflight_reaches_the_plugins_of_the_operation_it_asks_about() -> None:
    answered, head, unanswered, no_plugin, unknown, plain = asyncio.run(
        _calls(
            [
                ("OPTIONS", "/cors", _preflight("https://ok.example", "GET"), None),
                ("OPTIONS", "/cors", _preflight("https://ok.example", "HEAD"), None),  # HEAD is GET's
                ("OPTIONS", "/cors", _preflight("https://other.example", "GET"), None),
                ("OPTIONS", "/cors", _preflight("https://ok.example", "POST"), None),  # no plugin there
                ("OPTIONS", "/cors", _preflight("https://ok.example", "DELETE"), None),
                ("OPTIONS", "/cors", {"Origin": "https://ok.example"}, None),  # not a preflight
            ]
        )
    )
    assert answered.status_code == 204 and answered.headers["x-asked"] == "GET"
    assert head.status_code == 204
    # Nobody answered: the 405 the path always had for OPTIONS, never the upstream's answer.
    for refused in (unanswered, no_plugin, unknown, plain):
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, POST"
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_plugin_lowers_the_body_limit_the_proxy_enforces_while_streaming() -> None:
    declared, chunked, small = asyncio.run(
        _calls(
            [
                ("POST", "/small", {}, b"x" * 11),
                ("POST", "/small", {}, _chunks(b"x" * 6, b"y" * 6)),
                ("POST", "/small", {}, _chunks(b"x" * 5, b"y" * 5)),
            ]
        )
    )
    assert declared.status_code == 413 and "limit of 10" in declared.json()["detail"]
    assert chunked.status_code == 413
    assert small.status_code == 200 and small.json() == {"method": "POST", "bytes": 10}
    assert "x-secret" not in small.headers  # cleared in the response phase


def test_routes_without_the_plugin_keep_the_api_limit() -> None:
    (big,) = asyncio.run(_calls([("POST", "/cors", {}, _chunks(b"x" * 1000, b"y" * 1000))]))
    assert big.status_code == 200 and big.json()["bytes"] == 2000
    assert big.headers["x-secret"] == "s"
