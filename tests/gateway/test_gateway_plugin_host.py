"""The plugin registry and schema handling, and the PDK seen by small plugins defined here."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import httpx
import pytest

from agora.errors import InvalidInput
from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.pipeline.plugin_host import PluginRegistry, apply_schema
from gateway.settings import GatewaySettings
from gateway.upstream.transport import UpstreamRequest


def plugin_module(
    plugin: type, *, priority: int = 0, schema: tuple[Any, ...] = (), version: str = "1.0.0"
) -> Any:
    return SimpleNamespace(Plugin=plugin, Schema=schema, version=version, priority=priority)


def test_apply_schema_defaults_types_and_required() -> None:
    schema = (
        {"minute": {"type": "integer", "default": 60}},
        {"names": {"type": "array", "required": True}},
        {"policy": {"type": "string", "default": "local", "one_of": ["local", "redis"]}},
    )
    assert apply_schema(schema, {"names": ["a"]}, "t") == {"minute": 60, "names": ["a"], "policy": "local"}
    for bad in (
        {},
        {"names": "a"},
        {"names": [], "minute": True},
        {"names": [], "policy": "x"},
        {"names": [], "z": 1},
    ):
        with pytest.raises(InvalidInput):
            apply_schema(schema, bad, "t")


def test_modules_must_have_kongs_shape() -> None:
    registry = PluginRegistry()
    with pytest.raises(InvalidInput, match="lacks"):
        registry.register("x", SimpleNamespace(Plugin=object))
    with pytest.raises(InvalidInput, match=r"x\.y\.z"):
        registry.register("x", plugin_module(object, version="1.0"))


def test_discovery_from_handler_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "agora_discovery_pkg"
    (package / "rate_limiting").mkdir(parents=True)
    (package / "host").mkdir()  # no handler.py: skipped
    (package / "__init__.py").write_text("")
    (package / "rate_limiting" / "__init__.py").write_text("")
    (package / "rate_limiting" / "handler.py").write_text(
        "Schema = ()\nversion = '2.1.0'\npriority = 901\n"
        "class Plugin:\n    def __init__(self, config): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = PluginRegistry.discover("agora_discovery_pkg")
    assert list(registry.specs) == ["rate-limiting"]
    assert registry.specs["rate-limiting"].priority == 901


class Recorder:
    """Appends (name, phase) to the shared list `calls` in config; sync phases."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.name, self.calls = config["name"], config["calls"]

    def access(self, kong: Any) -> None:
        self.calls.append((self.name, "access"))

    def log(self, kong: Any) -> None:
        self.calls.append((self.name, "log"))


def test_chains_sorted_by_priority_route_overrides_service() -> None:
    calls: list[Any] = []
    registry = PluginRegistry()
    registry.register("low", plugin_module(Recorder, priority=1))
    registry.register("high", plugin_module(Recorder, priority=100))
    route_plugins = [{"name": "low", "config": {"name": "route-low", "calls": calls}}]
    doc = {
        "format": 1,
        "services": [
            {
                "name": "s",
                "prefix": "/a/b/v1",
                "plugins": [
                    {"name": "low", "config": {"name": "svc-low", "calls": calls}},
                    {"name": "high", "config": {"name": "svc-high", "calls": calls}},
                ],
                "routes": [
                    {"method": "GET", "path": "/x", "plugins": route_plugins},
                    {"method": "GET", "path": "/y"},
                ],
            }
        ],
    }
    config = compile_snapshot(doc, registry)
    x, y = config.snapshot.services[0].routes
    assert [p.instance.name for p in config.chains[x]] == ["svc-high", "route-low"]
    assert [p.instance.name for p in config.chains[y]] == ["svc-high", "svc-low"]
    assert config.chains[x][0].instance is config.chains[y][0].instance  # one instance per service plugin
    with pytest.raises(InvalidInput, match="unknown plugin"):
        compile_snapshot(
            {**doc, "services": [{**doc["services"][0], "plugins": [{"name": "nope"}]}]}, registry
        )


# --- The PDK, through the real stack with a terminal app instead of an upstream ---------------------


class EchoTransport:
    """An in-memory `Transport`: answers with the headers it was asked to send upstream."""

    def __init__(self) -> None:
        self.requests: list[UpstreamRequest] = []

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: UpstreamRequest) -> EchoResponse:
        self.requests.append(request)
        return EchoResponse(repr(request.headers).encode())


class EchoResponse:
    status = 200

    def __init__(self, payload: bytes) -> None:
        self.headers = [(b"x-up", b"1"), (b"content-length", str(len(payload)).encode())]
        self.payload = payload

    async def read(self) -> bytes:
        payload, self.payload = self.payload, b""
        return payload

    def whole(self) -> bytes | None:
        payload, self.payload = self.payload, b""
        return payload

    def close(self) -> None:
        pass


class Pdk:
    seen: ClassVar[dict[str, Any]] = {}
    threads: ClassVar[set[str]] = set()

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def access(self, kong: Any) -> None:
        Pdk.threads.add(threading.current_thread().name)
        seen = Pdk.seen
        seen["header"] = kong.request.get_header("X-Thing")
        seen["headers"] = kong.request.get_headers()["x-multi"]
        seen["path"], seen["method"] = kong.request.get_path(), kong.request.get_method()
        seen["query"] = kong.request.get_query()
        seen["ip"], seen["forwarded"] = kong.client.get_ip(), kong.client.get_forwarded_ip()
        seen["route"], seen["service"] = kong.router.get_route(), kong.router.get_service()
        kong.client.authenticate({"id": "c1", "username": "u"}, {"id": "k1"})
        kong.service.request.set_header("x-to-upstream", "replaced")  # the last call wins, whatever the case
        kong.service.request.set_header("X-To-Upstream", "yes")
        kong.response.set_header("X-From-Access", "a")
        kong.ctx.shared["by"] = "pdk"
        kong.log.info("access ran")
        if kong.request.get_query_arg("deny"):
            kong.response.error(403, "denied here")

    async def response(self, kong: Any) -> None:
        Pdk.seen["status"] = kong.response.get_status()
        Pdk.seen["upstream_header"] = kong.response.get_header("x-up")
        kong.response.set_header("X-Shared", kong.ctx.shared["by"])

    def log(self, kong: Any) -> None:
        Pdk.seen["facts"] = kong.log.serialize()
        Pdk.seen["consumer"] = kong.client.get_consumer()


class Threaded(Pdk):
    run_in_thread = True


@pytest.mark.parametrize("plugin", [Pdk, Threaded])
def test_pdk_calls_seen_by_a_plugin(plugin: type) -> None:
    registry = PluginRegistry()
    registry.register("pdk", plugin_module(plugin))
    doc = {
        "format": 1,
        "services": [
            {
                "name": "gov.api.v1",
                "prefix": "/gov/api/v1",
                "upstream": "http://127.0.0.1:9",
                "plugins": [{"name": "pdk"}],
                "routes": [{"method": "GET", "path": "/items/{id}", "operation_id": "getItem"}],
            }
        ],
    }
    upstream = EchoTransport()
    gateway = create_app(
        GatewaySettings(trusted_proxies=("127.0.0.0/8",)),
        registry=registry,
        config=compile_snapshot(doc, registry),
        transport=upstream,
    )

    async def call(url: str) -> httpx.Response:
        transport = HandlerTransport(gateway, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            headers = [
                ("X-Thing", "t"),
                ("X-Multi", "1"),
                ("X-Multi", "2"),
                ("X-Forwarded-For", "203.0.113.5"),
            ]
            return await client.get(url, headers=headers)

    Pdk.seen.clear()
    response = asyncio.run(call("/gov/api/v1/items/7?a=1&b=2&b=3"))
    assert response.status_code == 200
    assert response.headers["x-from-access"] == "a" and response.headers["x-shared"] == "pdk"
    assert ("X-To-Upstream", "yes") in upstream.requests[0].headers
    assert [v for k, v in upstream.requests[0].headers if k.lower() == "x-to-upstream"] == ["yes"]
    assert upstream.requests[0].url == "http://127.0.0.1:9/items/7?a=1&b=2&b=3"
    seen = Pdk.seen
    assert seen["header"] == "t" and seen["headers"] == ["1", "2"]
    assert seen["path"] == "/gov/api/v1/items/7" and seen["method"] == "GET"
    assert seen["query"] == {"a": "1", "b": ["2", "3"]}
    assert seen["ip"] == "127.0.0.1" and seen["forwarded"] == "203.0.113.5"
    assert seen["route"]["name"] == "getItem" and seen["route"]["paths"] == ["/gov/api/v1/items/{id}"]
    assert seen["service"]["name"] == "gov.api.v1" and "routes" not in seen["service"]
    assert seen["status"] == 200 and seen["upstream_header"] == "1"
    assert seen["consumer"] == {"id": "c1", "username": "u"}
    assert seen["facts"]["consumer"] == "c1" and seen["facts"]["route"] == "getItem"
    assert seen["facts"]["status"] == 200 and seen["facts"]["bytes_out"] == len(response.content)

    denied = asyncio.run(call("/gov/api/v1/items/7?deny=1"))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    assert denied.json()["detail"] == "denied here"
    if plugin is Threaded:
        assert any(name != threading.main_thread().name for name in Pdk.threads)
