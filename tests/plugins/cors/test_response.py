"""The response phase against an upstream that sends its own CORS headers: the plugin's decision
replaces them, and `Vary: Origin` joins the upstream's Vary. In process, a real aiohttp upstream."""

from __future__ import annotations

import asyncio

import httpx
from aiohttp import web

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from plugins.cors import handler

UPSTREAM_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "X-Internal",
    "Vary": "Accept-Encoding",
}


async def _answer(request: web.Request) -> web.Response:
    return web.json_response({"ok": True}, headers=UPSTREAM_HEADERS)


async def _calls(origins: list[str | None]) -> list[httpx.Response]:
    upstream = web.Application()
    upstream.router.add_get("/items", _answer)
    runner = web.AppRunner(upstream)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    registry = PluginRegistry()
    registry.register("cors", handler)
    config = {"origins": ["https://maps.example.org"], "credentials": True}
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.cors.v1",
                "prefix": "/gov/cors/v1",
                "upstream": f"http://127.0.0.1:{runner.addresses[0][1]}",
                "plugins": [{"name": "cors", "config": config}],
                "routes": [{"method": "GET", "path": "/items"}],
            }
        ],
    }
    gateway = create_app(GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry))
    await gateway.startup()
    try:
        transport = HandlerTransport(gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return [
                await client.get("/gov/cors/v1/items", headers={"Origin": o} if o else {}) for o in origins
            ]
    finally:
        await gateway.shutdown()
        await runner.cleanup()


def test_the_plugin_s_decision_replaces_the_upstream_s_cors_headers() -> None:
    allowed, stranger, no_origin = asyncio.run(
        _calls(["https://maps.example.org", "https://evil.example", None])
    )
    assert allowed.headers["access-control-allow-origin"] == "https://maps.example.org"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-expose-headers" not in allowed.headers  # the plugin exposes none
    assert allowed.headers["vary"] == "Accept-Encoding, Origin"
    for refused in (stranger, no_origin):
        assert not [name for name in refused.headers if name.startswith("access-control-")]
        assert refused.headers["vary"] == "Accept-Encoding, Origin"
