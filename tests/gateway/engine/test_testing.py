"""The in-process seam: `call()` drives a handler with no socket and records its answer."""

from __future__ import annotations

import asyncio

import pytest

from gateway.engine.http import Request, Responder
from gateway.engine.testing import BytesBody, call


async def echo(request: Request, responder: Responder) -> None:
    pieces = []
    if request.body is not None:
        while chunk := await request.body.read():
            pieces.append(chunk)
        assert request.body.complete
    responder.start(200, [(b"x-path", request.path.encode()), (b"x-query", request.query.encode())])
    for piece in pieces:
        await responder.write(piece)
    responder.end(b"!")


def test_call_records_status_headers_and_body() -> None:
    recorded = asyncio.run(call(echo, "POST", "/items?x=1", headers=[(b"X-Key", b"k")], body=b"data"))
    assert recorded.status == 200
    assert recorded.header("x-path") == "/items"
    assert recorded.header("X-Query") == "x=1"
    assert (recorded.body, recorded.ended, recorded.writes) == (b"data!", True, 2)


def test_call_passes_headers_lower_cased_with_host_and_length() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def record(request: Request, responder: Responder) -> None:
        seen.append(request.headers)
        responder.answer(204, [], b"")

    asyncio.run(call(record, "PUT", "/", headers=[(b"X-A", b"1")], body=b"abc"))
    assert seen == [[(b"host", b"testserver"), (b"x-a", b"1"), (b"content-length", b"3")]]


def test_a_body_in_pieces() -> None:
    body = BytesBody(b"a", b"b", b"c")
    recorded = asyncio.run(call(echo, "POST", "/", body=body))
    assert recorded.body == b"abc!"
    assert body.reads == 4


def test_answer_adds_content_length_like_the_server() -> None:
    async def whole(request: Request, responder: Responder) -> None:
        responder.answer(404, [(b"content-type", b"application/problem+json")], b"{}")

    recorded = asyncio.run(call(whole, "GET", "/"))
    assert (recorded.status, recorded.header("content-length"), recorded.body) == (404, "2", b"{}")


def test_misuse_is_refused_as_by_the_server() -> None:
    async def twice(request: Request, responder: Responder) -> None:
        responder.answer(200, [], b"")
        responder.answer(200, [], b"")

    async def with_length(request: Request, responder: Responder) -> None:
        responder.answer(200, [(b"content-length", b"1")], b"x")

    with pytest.raises(RuntimeError, match="already started"):
        asyncio.run(call(twice, "GET", "/"))
    with pytest.raises(ValueError, match="content-length"):
        asyncio.run(call(with_length, "GET", "/"))
