"""Issue 14, item 4 at run time: the jwt plugin fetches keys only from where the platform allows.

Publication checks the `issuer` and `jwks_uri` an agency writes (test_plugin_configs.py). It cannot see
two things: the `jwks_uri` that the provider's discovery document (`{issuer}/.well-known/openid-
configuration`) names, and what a name resolves to when the gateway connects. A provider whose discovery
named http://169.254.169.254/... made the gateway fetch the cloud's metadata for an anonymous caller with
a made-up token. Now the discovered URL goes through publication's check and every fetch through the
connect-time one: the caller gets the plugin's usual 503, and nothing is fetched there.

A real gateway (in process) runs the shipped jwt plugin against a real provider on loopback (aiohttp),
which also serves as the upstream. The plugin's key cache records every URL it fetches.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

from agora.addresses import allowed_hosts_from_env
from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import RecordingResponder, call
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from plugins.jwt import keys
from plugins.jwt.handler import ERR_KEYS_UNAVAILABLE

AUDIENCE = "https://api.example.gov/probe"
METADATA = "http://169.254.169.254/latest/meta-data/jwks"


@dataclass
class Provider:
    """An OpenID Provider an agency names; its discovery document names `jwks_uri` (default: its own)."""

    url: str = ""
    jwks_uri: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k"}))
    hits: list[str] = field(default_factory=list)

    async def discovery(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.json_response({"issuer": self.url, "jwks_uri": self.jwks_uri or self.url + "/jwks"})

    async def jwks(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def upstream(self, request: web.Request) -> web.Response:
        return web.json_response({"reached": True})

    def token(self, issuer: str | None = None) -> str:
        claims = {"iss": issuer or self.url, "aud": AUDIENCE, "exp": int(time.time()) + 300, "sub": "x"}
        return jwt.encode({"alg": "RS256", "kid": "k"}, claims, self.key)


@asynccontextmanager
async def serving() -> AsyncIterator[Provider]:
    provider = Provider()
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", provider.discovery)
    app.router.add_get("/jwks", provider.jwks)
    app.router.add_get("/p", provider.upstream)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    provider.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield provider
    finally:
        await runner.cleanup()


def _unsigned(issuer: str) -> str:
    """What an anonymous caller sends: a token naming the issuer, with no valid signature at all."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part({'iss': issuer, 'aud': AUDIENCE})}.AAAA"


Scenario = Callable[
    [Provider, Callable[[str, str], Awaitable[RecordingResponder]], list[str]], Awaitable[None]
]


def _same(url: str) -> str:
    return url


def run(monkeypatch: pytest.MonkeyPatch, scenario: Scenario, issuer: Callable[[str], str] = _same) -> None:
    """Runs `scenario(provider, get, fetched)`: `get(path, token)` calls the gateway, whose jwt plugin
    trusts `issuer(provider.url)`; `fetched` lists every URL the plugin fetched."""
    fetched: list[str] = []

    async def recording(url: str) -> dict[str, Any]:
        fetched.append(url)
        return await keys.fetch_json(url, allowed_hosts=allowed_hosts_from_env())

    monkeypatch.setattr(keys, "CACHE", keys.JwksCache(recording))  # the plugin takes keys.CACHE

    async def main() -> None:
        async with serving() as provider:
            trusted = issuer(provider.url)
            config = {"issuers": [{"issuer": trusted, "audiences": [AUDIENCE]}]}
            service = {
                "name": "probe.jwt.v1", "prefix": "/probe/jwt/v1", "upstream": provider.url,
                "routes": [{"method": "GET", "path": "/p"}], "plugins": [{"name": "jwt", "config": config}],
            }  # fmt: skip
            registry = PluginRegistry.discover("plugins")
            document = {"format": 1, "services": [service], "consumers": [], "plans": {}}
            gateway = create_app(
                GatewaySettings(health_checks=False, allowed_upstream_hosts=allowed_hosts_from_env()),
                registry=registry,
                config=compile_snapshot(document, registry),
                health=False,
            )

            async def get(path: str, token: str) -> RecordingResponder:
                headers = [(b"authorization", f"Bearer {token}".encode())]
                return await call(gateway, "GET", "/probe/jwt/v1" + path, headers=headers)

            await gateway.startup()
            try:
                await scenario(provider, get, fetched)
            finally:
                await gateway.shutdown()

    asyncio.run(main())


def _unavailable(answer: RecordingResponder) -> None:
    assert answer.status == 503, answer.body
    assert json.loads(answer.body)["detail"] == ERR_KEYS_UNAVAILABLE


def test_a_discovered_jwks_uri_at_the_metadata_address_is_never_fetched(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(provider: Provider, get: Any, fetched: list[str]) -> None:
        provider.jwks_uri = METADATA
        _unavailable(await get("/p", _unsigned(provider.url)))
        assert fetched == [provider.url + "/.well-known/openid-configuration"]  # and not METADATA

    with caplog.at_level(logging.ERROR):
        run(monkeypatch, scenario)
    assert "names a jwks_uri the gateway may not fetch" in caplog.text and "link-local" in caplog.text


def test_a_discovered_jwks_uri_on_loopback_is_fetched_only_when_the_operator_allows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused(provider: Provider, get: Any, fetched: list[str]) -> None:
        _unavailable(await get("/p", provider.token()))
        assert provider.hits == ["/.well-known/openid-configuration"]  # its /jwks was never asked

    async def allowed(provider: Provider, get: Any, fetched: list[str]) -> None:
        answer = await get("/p", provider.token())
        assert answer.status == 200 and json.loads(answer.body) == {"reached": True}
        assert provider.hits == ["/.well-known/openid-configuration", "/jwks"]

    monkeypatch.delenv("AGORA_ALLOWED_UPSTREAM_HOSTS", raising=False)
    run(monkeypatch, refused)
    monkeypatch.setenv("AGORA_ALLOWED_UPSTREAM_HOSTS", "127.0.0.1")  # as `make run` sets it
    run(monkeypatch, allowed)


def test_an_issuer_name_resolving_inside_is_refused_when_connecting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Publication refuses `localhost` by name, but any name may resolve to loopback or to the metadata
    address later (DNS rebinding): the fetch checks the address it is about to connect to."""

    async def scenario(provider: Provider, get: Any, fetched: list[str]) -> None:
        issuer = provider.url.replace("127.0.0.1", "localhost")
        _unavailable(await get("/p", provider.token(issuer)))
        assert fetched == [issuer + "/.well-known/openid-configuration"]
        assert provider.hits == []  # no connection was made

    monkeypatch.delenv("AGORA_ALLOWED_UPSTREAM_HOSTS", raising=False)
    with caplog.at_level(logging.ERROR):
        run(monkeypatch, scenario, issuer=lambda url: url.replace("127.0.0.1", "localhost"))
    assert "resolved to 127.0.0.1, loopback" in caplog.text
