"""Where the server listens: host and port, an already bound socket, SO_REUSEPORT, IPv6; what the
handler learns of its peer."""

from __future__ import annotations

import asyncio
import socket

import pytest
from engine_wire import Client, get, run

from gateway.engine.http import Request, Responder
from gateway.engine.server import Server, serve


async def peer(request: Request, responder: Responder) -> None:
    responder.answer(200, [], f"{request.peer} {request.scheme} {request.http_version}".encode())


async def ask(host: str, port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    client = Client(reader, writer)
    await client.send(raw)
    body = (await client.answer()).body
    await client.close()
    return body


def test_the_handler_learns_its_peer() -> None:
    async def scenario() -> bytes:
        server = await serve(peer, "127.0.0.1", 0)
        try:
            return await ask("127.0.0.1", server.port, get())
        finally:
            await server.close(1)

    assert run(scenario()) == b"127.0.0.1 http 1.1"


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv6() -> None:
    async def scenario() -> bytes:
        try:
            server = await serve(peer, "::1", 0)
        except OSError:
            pytest.skip("::1 is not configured")
        try:
            return await ask("::1", server.port, get(version="1.0"))
        finally:
            await server.close(1)

    assert run(scenario()) == b"::1 http 1.0"


def test_a_bound_socket_is_served() -> None:
    async def scenario() -> tuple[bytes, int]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = await serve(peer, None, 0, sock=sock)
        try:
            return await ask("127.0.0.1", sock.getsockname()[1], get()), server.port
        finally:
            await server.close(1)

    body, _ = run(scenario())
    assert body == b"127.0.0.1 http 1.1"


def test_two_servers_share_a_port_with_reuse_port() -> None:
    async def scenario() -> tuple[int, int]:
        first = await serve(peer, "127.0.0.1", 0, reuse_port=True)
        second: Server = await serve(peer, "127.0.0.1", first.port, reuse_port=True)
        try:
            assert await ask("127.0.0.1", first.port, get()) == b"127.0.0.1 http 1.1"
            return first.port, second.port
        finally:
            await first.close(1)
            await second.close(1)

    first, second = run(scenario())
    assert first == second
