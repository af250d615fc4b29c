"""`https://` upstreams, verified against a local CA (trustme) given as the private CA bundle, with SNI;
IPv6 literal upstreams."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest
import trustme
from scripted_upstream import Upstream, fetch, request

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.upstream import UpstreamClient
from gateway.errors import BadGateway
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from gateway.upstream.circuit import CircuitTransport


def _server_context(ca: trustme.CA, *names: str, seen: list[str | None] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    if seen is not None:

        def record(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            seen.append(name)

        context.sni_callback = record
    return context


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


def test_https_upstream_verified_by_a_private_ca_with_sni(ca: tuple[trustme.CA, Path]) -> None:
    authority, path = ca
    names: list[str | None] = []

    async def scenario() -> None:
        client = UpstreamClient(ca_file=path)
        tls = _server_context(authority, "localhost", "127.0.0.1", seen=names)
        async with Upstream(tls=tls) as upstream:
            for _ in range(2):
                status, _, body = await fetch(client, request(f"https://localhost:{upstream.port}/"))
                assert (status, body) == (200, b"ok")
            assert upstream.connections == 1  # kept alive over TLS too
            assert names == ["localhost"]
            assert upstream.requests[0].header("host") == f"localhost:{upstream.port}"
            assert (await fetch(client, request(f"https://127.0.0.1:{upstream.port}/")))[0] == 200
        await client.aclose()

    asyncio.run(scenario())


def test_an_unknown_ca_is_refused(ca: tuple[trustme.CA, Path]) -> None:
    authority, _ = ca

    async def scenario() -> None:
        client = UpstreamClient()  # the system's CAs only
        async with Upstream(tls=_server_context(authority, "localhost")) as upstream:
            with pytest.raises(BadGateway, match="failed TLS verification: unable to get local issuer"):
                await fetch(client, request(f"https://localhost:{upstream.port}/"))
            assert client.pool(f"https://localhost:{upstream.port}").total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_a_certificate_for_another_name_is_refused(ca: tuple[trustme.CA, Path]) -> None:
    authority, path = ca

    async def scenario() -> None:
        client = UpstreamClient(ca_file=path)
        async with Upstream(tls=_server_context(authority, "api.example")) as upstream:
            with pytest.raises(BadGateway, match="failed TLS verification: Hostname mismatch"):
                await fetch(client, request(f"https://localhost:{upstream.port}/"))
        await client.aclose()

    asyncio.run(scenario())


def test_the_ca_bundle_setting_reaches_the_shipped_client(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env({"AGORA_GATEWAY_UPSTREAM_CA": str(tmp_path / "ca.pem")})
    assert settings.upstream_ca == tmp_path / "ca.pem"
    registry = PluginRegistry()
    config = compile_snapshot({"format": 1, "services": []}, registry)
    gateway = create_app(settings, config=config, registry=registry)
    transport = gateway.transport
    assert isinstance(transport, CircuitTransport) and isinstance(transport.inner, UpstreamClient)
    assert transport.inner.ca_file == tmp_path / "ca.pem"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_an_ipv6_literal_upstream() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(host="::1") as upstream:
            assert upstream.origin == f"http://[::1]:{upstream.port}"
            for _ in range(2):
                status, _, body = await fetch(client, request(upstream.url("/v6")))
                assert (status, body) == (200, b"ok")
            assert upstream.connections == 1
            assert upstream.peers == ["::1"]
            assert upstream.requests[0].header("host") == f"[::1]:{upstream.port}"
        await client.aclose()

    asyncio.run(scenario())


def test_an_unreadable_ca_bundle_fails_the_start(tmp_path: Path) -> None:
    client = UpstreamClient(ca_file=tmp_path / "missing.pem")
    with pytest.raises(BadGateway, match=r"upstream CA bundle .*missing\.pem cannot be loaded"):
        asyncio.run(client.start())
