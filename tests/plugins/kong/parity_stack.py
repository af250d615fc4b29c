"""The two sides of the parity tests: Agora's gateway in-process, and Kong played against the real
plugin servers, both from one snapshot (Kong's from `to_kong(..., python_plugins_everywhere=True)`).

A *decision* is what a client and the upstream can tell apart: the status, the headers plugins set
(challenges, links, limits, CORS), the problem document of a refusal, and for a call let through, the
identity headers and query the upstream receives.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from tests.gateway.test_gateway_plugin_host import EchoTransport

from .kong_rpc import KongRequest, Plugin

__all__ = ["AgoraSide", "KongSide", "Request", "decision"]

# Headers whose presence and value are part of a decision.
DECIDING = (
    "www-authenticate", "link", "retry-after", "x-ratelimit-limit-minute", "x-ratelimit-remaining-minute",
    "ratelimit-limit", "ratelimit-remaining", "access-control-allow-origin",
    "access-control-allow-credentials", "access-control-allow-methods", "access-control-allow-headers",
    "access-control-max-age", "access-control-expose-headers",
)  # fmt: skip
UPSTREAM = (
    "x-consumer-id",
    "x-consumer-username",
    "x-credential-identifier",
    "x-anonymous-consumer",
    "apikey",
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client_ip: str = "192.0.2.10"


def _problem(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    if not content_type or "json" not in content_type or not body:
        return None
    doc = json.loads(body)
    return {k: doc.get(k) for k in ("type", "title", "status", "detail", "errors", "request_access")}


def decision(
    status: int,
    headers: dict[str, str],
    body: bytes,
    upstream: dict[str, str | None] | None,
    query: str | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    out["headers"] = {k: headers[k] for k in DECIDING if k in headers}
    if "retry-after" in out["headers"]:
        out["headers"]["retry-after"] = "set"  # seconds left in the window: the clocks differ by ms
    if upstream is None:
        out["content-type"] = headers.get("content-type")
        out["problem"] = _problem(body, headers.get("content-type"))
    else:
        out["upstream"] = {k: upstream.get(k) for k in UPSTREAM}
        out["query"] = query
    return out


class AgoraSide:
    def __init__(self, document: dict[str, Any]) -> None:
        registry = PluginRegistry.discover("plugins")
        self.upstream = EchoTransport()
        config = compile_snapshot(document, registry)
        self.app = create_app(GatewaySettings(), registry=registry, config=config, transport=self.upstream)

    def send(self, request: Request) -> dict[str, Any]:
        async def call() -> httpx.Response:
            transport = HandlerTransport(self.app, client=(request.client_ip, 5555))
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                url = request.path + (f"?{request.query}" if request.query else "")
                return await client.request(
                    request.method, url, headers=list(request.headers), content=request.body or None
                )

        before = len(self.upstream.requests)
        response = asyncio.run(call())
        headers = {k.lower(): v for k, v in response.headers.items()}
        if len(self.upstream.requests) == before:
            return decision(response.status_code, headers, response.content, None, None)
        sent = self.upstream.requests[-1]
        seen: dict[str, str | None] = {k.lower(): v for k, v in sent.headers}
        return decision(response.status_code, headers, b"", seen, sent.url.partition("?")[2])


@dataclass
class KongSide:
    config: dict[str, Any]  # the exported Kong config
    servers: dict[str, tuple[Any, int]]  # plugin name -> (Rpc, priority)
    instances: dict[str, int] = field(default_factory=dict)  # plugin entry (JSON) -> instance id
    phases: dict[str, list[str]] = field(default_factory=dict)

    def _plugins(self, request: KongRequest) -> list[Plugin]:
        """Kong's plugin selection: per name, the route's entry, else the service's, else the global one."""
        chosen: dict[str, dict[str, Any]] = {}
        scopes = [
            [p for p in self.config["plugins"] if "consumer" not in p and "service" not in p],
            request.service["plugins"],
            request.route["plugins"],
        ]
        for scope in scopes:
            for entry in scope:
                chosen[entry["name"]] = entry
        out = []
        for name, entry in chosen.items():
            if name not in self.servers:
                continue  # bundled mechanics (request-transformer, http-log...): not part of the decision
            from .kong_rpc import start_instance

            rpc, priority = self.servers[name]
            key = json.dumps([name, entry["config"]], sort_keys=True)
            if key not in self.instances:
                self.instances[key] = start_instance(rpc, name, entry["config"], seq=len(self.instances) + 1)
            out.append(Plugin(name, rpc, self.instances[key], priority))
        return out

    def send(self, request: Request) -> dict[str, Any]:
        kong = KongRequest(
            self.config, request.method, request.path, request.query, list(request.headers),
            request.body, request.client_ip,
        )  # fmt: skip
        plugins = self._plugins(kong)
        kong.run(plugins, "access")
        if kong.exit is not None:
            status, body, headers = kong.exit
            return decision(status, {**kong.response_headers, **headers}, body, None, None)
        kong.status, kong.response_headers = 200, {"x-up": "1", **kong.response_headers}
        kong.run([p for p in plugins if "response" in self.phases.get(p.name, [])], "response")
        upstream: dict[str, str | None] = {k.lower(): v for k, v in request.headers}
        upstream.update(kong.upstream_set)
        query = kong.upstream_query if kong.upstream_query is not None else request.query
        return decision(200, kong.response_headers, b"", upstream, query)
