"""Bodies both ways: request bodies streamed with their framing and back-pressure; answers with length,
chunks or close-delimited, bodiless ones (HEAD, 204, 304), interim 1xx skipped, trailers dropped, and
a slow consumer pausing the upstream socket."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from scripted_upstream import FAST, Request, Upstream, answer, chunks, fetch, read_request, request

from gateway.engine.upstream import UpstreamClient
from gateway.engine.upstream_response import HIGH_WATER


def _digest_of(body: bytes) -> bytes:
    return f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()


def _digest(req: Request) -> bytes:
    return _digest_of(req.body)


def test_a_body_with_a_length_goes_as_is_and_without_one_chunked() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: answer(_digest(r))) as upstream:
            _, _, sized = await fetch(
                client, request(upstream.url(), "PUT", [("content-length", "6")], chunks(b"abc", b"def"))
            )
            _, _, unsized = await fetch(
                client, request(upstream.url(), "POST", body=chunks(b"abc", b"", b"def"))
            )
            _, _, empty = await fetch(client, request(upstream.url(), "POST", body=chunks()))
            expected = f"6 {hashlib.sha256(b'abcdef').hexdigest()}".encode()
            assert sized == unsized == expected
            assert empty == f"0 {hashlib.sha256(b'').hexdigest()}".encode()
            first, second, third = upstream.requests
            assert first.header("content-length") == "6" and first.header("transfer-encoding") is None
            assert second.header("transfer-encoding") == "chunked" and second.header("content-length") is None
            assert third.header("transfer-encoding") == "chunked"
            assert upstream.connections == 1  # every body went whole: the connection was kept
        await client.aclose()

    asyncio.run(scenario())


def test_a_large_request_body_streams_to_a_slow_reader() -> None:
    """The client waits for the upstream's socket to drain (pause_writing/resume_writing) rather than
    buffering the body whole."""
    piece = bytes(range(256)) * 256  # 64 KiB

    async def slow(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        received = 0
        while received < length:
            received += len(await reader.read(65536))
            await asyncio.sleep(0.001)
        writer.write(answer(str(received).encode()))
        await writer.drain()

    async def scenario() -> None:
        client = UpstreamClient()
        sent = 0

        async def body() -> object:
            nonlocal sent
            for _ in range(200):
                sent += len(piece)
                yield piece

        async with Upstream(slow) as upstream:
            size = 200 * len(piece)
            req = request(upstream.url(), "POST", [("content-length", str(size))], body())  # type: ignore[arg-type]
            assert (await fetch(client, req))[2] == str(size).encode()
            assert sent == size
        await client.aclose()

    asyncio.run(scenario())


def test_a_slow_consumer_pauses_the_upstream_socket() -> None:
    big = b"z" * (8 * 1024 * 1024)

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: answer(big)) as upstream:
            response = await client.send(request(upstream.url()))
            received = bytearray()
            largest = 0
            for _ in range(5):
                await asyncio.sleep(0.05)  # the consumer is slow: the upstream keeps sending meanwhile
                chunk = await response.read()
                largest = max(largest, len(chunk))
                received += chunk
            assert largest <= HIGH_WATER + 256 * 1024  # at most the high-water mark plus one socket read
            while chunk := await response.read():
                received += chunk
            assert bytes(received) == big and response.at_eof()
            response.close()
            assert len(client.pool(upstream.origin).idle) == 1
        await client.aclose()

    asyncio.run(scenario())


def test_a_close_delimited_body_ends_at_eof_and_its_connection_is_not_reused() -> None:
    async def closes(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"the end")
        await writer.drain()

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(closes) as upstream:
            status, headers, body = await fetch(client, request(upstream.url()))
            assert (status, body) == (200, b"until the end")
            assert headers == [(b"content-type", b"text/plain")]
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_a_chunked_answer_with_trailers_is_relayed_without_them() -> None:
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"
    )

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: reply) as upstream:
            for _ in range(2):
                status, headers, body = await fetch(client, request(upstream.url()))
                assert (status, body) == (200, b"hello world")
                assert headers == [(b"transfer-encoding", b"chunked"), (b"trailer", b"X-Sum")]
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("method", "reply"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 50\r\n\r\n'),
    ],
)
def test_bodiless_answers_end_at_their_head_and_keep_the_connection(method: str, reply: bytes) -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        replies = [reply, answer(b"next")]
        async with Upstream(reply=lambda r: replies.pop(0)) as upstream:
            status, _, body = await fetch(client, request(upstream.url(), method))
            assert (status, body) == (int(reply.split()[1]), b"")
            assert (await fetch(client, request(upstream.url())))[2] == b"next"
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_interim_answers_are_skipped() -> None:
    reply = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + answer(b"final", "201 Created")
    )

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: reply) as upstream:
            status, headers, body = await fetch(client, request(upstream.url(), "POST", body=chunks(b"x")))
            assert (status, headers, body) == (201, [(b"content-length", b"5")], b"final")
            assert (await fetch(client, request(upstream.url())))[0] == 201
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_the_head_goes_out_in_one_write_with_the_first_body_piece() -> None:
    """Host is added from the origin unless a header sets it; headers keep their order and case."""
    received: list[bytes] = []

    async def records(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(65536))  # the first segment holds head and first piece
        writer.write(answer())
        await writer.drain()

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(records) as upstream:
            headers = [("X-Request-ID", "r1"), ("content-length", "5"), ("host", "api.example")]
            await fetch(client, request(upstream.url("/p?a=%20"), "POST", headers, chunks(b"hello"), FAST))
        assert received == [
            b"POST /p?a=%20 HTTP/1.1\r\nX-Request-ID: r1\r\ncontent-length: 5\r\nhost: api.example\r\n"
            b"\r\nhello"
        ]
        await client.aclose()

    asyncio.run(scenario())


def test_the_fast_entry_takes_header_lines_as_bytes() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: answer(_digest(r))) as upstream:
            lines = b"x-request-id: r2\r\ncontent-length: 3\r\n"
            response = await client.send_encoded(
                upstream.origin, "PATCH", "/e?x=1", lines, chunks(b"abc"), FAST, has_length=True
            )
            assert response.status == 200 and await response.read() == _digest(upstream.requests[0])
            response.close()
            (req,) = upstream.requests
            assert req.line == "PATCH /e?x=1 HTTP/1.1"
            assert req.headers == [
                ("Host", f"127.0.0.1:{upstream.port}"),
                ("x-request-id", "r2"),
                ("content-length", "3"),
            ]
            assert req.body == b"abc"
        await client.aclose()

    asyncio.run(scenario())


def test_an_upstream_that_answers_its_head_first_still_gets_the_whole_body() -> None:
    """Some servers send the head at once and read the body after (streaming handlers): the rest of the
    body keeps going while the answer is relayed; the connection is kept only if both ended whole."""

    async def head_first(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            body = bytearray()
            while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
                body += await reader.readexactly(size + 2)
                del body[-2:]
            await reader.readuntil(b"\r\n")
            digest = _digest_of(bytes(body))
            writer.write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(digest), digest))
            await writer.drain()
            up.requests.append(Request(head, bytes(body)))

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(head_first) as upstream:
            for _ in range(2):
                body = chunks(b"a" * 1000, b"b" * 1000, b"c" * 1000, pause=0.05)
                status, _, answered = await fetch(client, request(upstream.url(), "POST", body=body))
                assert (status, answered) == (200, _digest_of(b"a" * 1000 + b"b" * 1000 + b"c" * 1000))
            assert upstream.connections == 1  # both ended whole: kept alive
        await client.aclose()

    asyncio.run(scenario())


def test_the_rest_of_a_body_stops_when_the_early_answer_ends() -> None:
    async def answers_without_reading(
        _: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await asyncio.sleep(0.1)
        writer.write(b"4\r\ndone\r\n0\r\n\r\n")
        await writer.drain()
        await reader.read()

    stopped: list[str] = []

    async def stalls() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            await asyncio.sleep(0.05)
            yield b"second"
            await asyncio.sleep(10)
            yield b"never"
        except BaseException as exc:
            stopped.append(type(exc).__name__)
            raise

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(answers_without_reading) as upstream:
            async with asyncio.timeout(2):
                status, _, body = await fetch(client, request(upstream.url(), "POST", body=stalls()))
            assert (status, body) == (200, b"done")
            await upstream.wait_closed(1)
            assert client.pool(upstream.origin).total == 0
            await asyncio.sleep(0)
            assert stopped == ["CancelledError"]
        await client.aclose()

    asyncio.run(scenario())


def test_bodiless_post_put_patch_say_content_length_zero() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            for method in ("POST", "PUT", "PATCH", "GET", "DELETE"):
                await fetch(client, request(upstream.url(), method))
            await fetch(client, request(upstream.url(), "POST", [("content-length", "0")]))
            lengths = [r.header("content-length") for r in upstream.requests]
            assert lengths == ["0", "0", "0", None, None, "0"]
            assert [
                len([h for h in r.headers if h[0].lower() == "content-length"]) for r in upstream.requests
            ][-1] == 1
        await client.aclose()

    asyncio.run(scenario())
