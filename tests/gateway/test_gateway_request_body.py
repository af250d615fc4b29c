"""`kong.request.get_raw_body()`: the body is read whole only for a plugin declaring `body_limit`, then
replayed byte for byte to a real upstream (aiohttp on loopback) through the shipped aiohttp transport."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, ClassVar

import httpx
from aiohttp import web

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings


class BodyReader:
    """Reads the body in access; refuses bodies containing b"deny"."""

    body_limit = 64
    seen: ClassVar[list[bytes | None]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def access(self, kong: Any) -> None:
        body = kong.request.get_raw_body()
        BodyReader.seen.append(body)
        if body and b"deny" in body:
            kong.response.error(400, "denied by body")


class HeaderOnly:
    """A plugin that does not ask for the body: its route keeps streaming."""

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    captures: ClassVar[list[dict[str, Any]]] = []

    def access(self, kong: Any) -> None:
        BodyReader.seen.append(kong.request.get_raw_body())
        HeaderOnly.captures.append(kong.request.get_uri_captures())


def _registry() -> PluginRegistry:
    registry = PluginRegistry()
    for name, plugin in (("body-reader", BodyReader), ("header-only", HeaderOnly)):
        registry.register(name, SimpleNamespace(Plugin=plugin, Schema=(), version="1.0.0", priority=1))
    return registry


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def _scenario(calls: list[tuple[str, Any]]) -> list[httpx.Response]:
    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(upstream)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    registry = _registry()
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.body.v1",
                "prefix": "/gov/body/v1",
                "upstream": f"http://127.0.0.1:{port}",
                "max_body_bytes": 1000,
                "routes": [
                    {"method": "POST", "path": "/read", "plugins": [{"name": "body-reader"}]},
                    {"method": "POST", "path": "/stream", "plugins": [{"name": "header-only"}]},
                    {"method": "POST", "path": "/things/{kind}/{name}", "plugins": [{"name": "header-only"}]},
                ],
            }
        ],
    }
    gateway = create_app(GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry))
    await gateway.startup()
    try:
        transport = HandlerTransport(gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return [await client.post("/gov/body/v1" + path, content=content) for path, content in calls]
    finally:
        await gateway.shutdown()
        await runner.cleanup()


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part  # each part is one ASGI message: the body arrives in pieces


def test_body_read_for_the_plugin_and_replayed_upstream() -> None:
    BodyReader.seen.clear()
    payload = b'{"name": "x"}'
    sent, chunked, denied, streamed = asyncio.run(
        _scenario(
            [
                ("/read", payload),
                ("/read", _chunks(b"ab", b"cd", b"ef")),
                ("/read", b"please deny"),
                ("/stream", payload),
            ]
        )
    )
    assert sent.status_code == 200
    assert sent.json() == {"bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    assert chunked.json() == {"bytes": 6, "sha256": hashlib.sha256(b"abcdef").hexdigest()}
    assert denied.status_code == 400 and denied.json()["detail"] == "denied by body"
    assert streamed.json()["bytes"] == len(payload)
    # The plugin saw the whole body each time; the plugin that did not ask saw none.
    assert BodyReader.seen == [payload, b"abcdef", b"please deny", None]


def test_body_over_the_plugins_limit_is_413_before_the_upstream() -> None:
    BodyReader.seen.clear()
    declared, counted, small = asyncio.run(
        _scenario([("/read", b"x" * 65), ("/read", _chunks(b"x" * 40, b"y" * 40)), ("/read", b"x" * 64)])
    )
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"
    assert counted.status_code == 413  # no Content-Length: counted while reading
    assert small.status_code == 200 and small.json()["bytes"] == 64
    assert BodyReader.seen == [b"x" * 64]  # the plugin never ran on the refused ones


def test_uri_captures_are_the_path_parameters_decoded() -> None:
    HeaderOnly.captures.clear()
    (response,) = asyncio.run(_scenario([("/things/tools/a%20b%3Bc", b"")]))
    assert response.status_code == 200
    named = {"kind": "tools", "name": "a b;c"}
    assert HeaderOnly.captures == [{"unnamed": ["tools", "a b;c"], "named": named}]


def test_an_encoded_slash_in_a_parameter_is_refused_before_any_plugin() -> None:
    """`%2F` would be one parameter here and two segments at the upstream (another operation)."""
    HeaderOnly.captures.clear()
    (response,) = asyncio.run(_scenario([("/things/tools/a%2Fc", b"")]))
    assert response.status_code == 400 and "%2F" in response.json()["detail"]
    assert HeaderOnly.captures == []
