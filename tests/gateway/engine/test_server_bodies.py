"""Bodies both ways: back-pressure, chunked requests and answers, trailers, 100-continue, HEAD, 204/304,
and what happens to a body the handler never read (it must never be parsed as a request)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from engine_wire import Client, connect, get, run, serving

from gateway.engine.http import ClientDisconnected, Request, Responder

MiB = 1024 * 1024


async def echo(request: Request, responder: Responder) -> None:
    """Answers the body it read, with `x-pieces`: how many reads it took."""
    pieces = []
    if request.body is not None:
        while chunk := await request.body.read():
            pieces.append(chunk)
    body = b"".join(pieces)
    responder.answer(200, [(b"x-pieces", str(len(pieces)).encode())], body)


def post(path: str, body: bytes, *, headers: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {len(body)}\r\n{headers}\r\n"
    return head.encode() + body


def test_request_body_back_pressure_blocks_the_client_until_the_handler_reads() -> None:
    gate = asyncio.Event()
    largest = 0

    async def lazy(request: Request, responder: Responder) -> None:
        nonlocal largest
        await gate.wait()
        total = 0
        assert request.body is not None
        while chunk := await request.body.read():
            total += len(chunk)
            largest = max(largest, len(chunk))
        responder.answer(200, [], str(total).encode())

    async def scenario() -> tuple[bool, bytes]:
        size = 64 * MiB
        async with serving(lazy) as server:
            client = await connect(server)
            client.writer.write(f"PUT /big HTTP/1.1\r\nhost: t\r\ncontent-length: {size}\r\n\r\n".encode())
            client.writer.write(bytes(size))
            try:
                await asyncio.wait_for(client.writer.drain(), 0.5)
                blocked = False
            except TimeoutError:
                blocked = True  # the server stopped reading: the client's own buffers are full
            gate.set()
            await asyncio.wait_for(client.writer.drain(), 20)
            return blocked, (await client.answer()).body

    blocked, body = run(scenario())
    assert blocked
    assert body == str(64 * MiB).encode()
    assert largest < 2 * MiB  # read in pieces, never the body whole


def test_chunked_request_with_extensions_and_trailers_then_a_pipelined_request() -> None:
    async def scenario() -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
        seen: list[list[tuple[bytes, bytes]]] = []

        async def record(request: Request, responder: Responder) -> None:
            seen.append(list(request.headers))
            await echo(request, responder)

        async with serving(record) as server:
            client = await connect(server)
            head = b"POST /c HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
            # trailing whitespace after "chunked" is not part of the value the handler sees
            await client.send(head.replace(b"chunked", b"chunked  ") + b"5;ext=1\r\nhello\r\n")
            await asyncio.sleep(0.05)
            await client.send(b"6\r\n world\r\n0\r\nx-trailer: dropped\r\n\r\n" + get("/next"))
            first = await client.answer()
            second = await client.answer()
            return first.body, seen[0], second.status.to_bytes(2, "big")

    body, headers, second = run(scenario())
    assert body == b"hello world"
    assert (b"x-trailer", b"dropped") not in headers
    assert headers == [(b"host", b"t"), (b"transfer-encoding", b"chunked")]
    assert int.from_bytes(second, "big") == 200


def test_answer_without_content_length_is_chunked_with_one_write_per_piece() -> None:
    async def streaming(request: Request, responder: Responder) -> None:
        responder.start(200, [(b"content-type", b"text/plain")])
        for piece in (b"a", b"", b"bb", b"ccc"):
            await responder.write(piece)
        responder.end(b"dd")
        assert responder.bytes_sent == 8

    async def scenario() -> tuple[bool, bytes, str | None]:
        async with serving(streaming) as server:
            client = await connect(server)
            await client.send(get())
            answer = await client.answer()
            again = await _again(client)
            return answer.chunked, answer.body, again

    assert run(scenario()) == (True, b"abbcccdd", "200")


def test_answer_with_content_length_is_not_chunked() -> None:
    async def sized(request: Request, responder: Responder) -> None:
        responder.start(200, [(b"content-length", b"6")])
        await responder.write(b"abc")
        responder.end(b"def")

    async def scenario() -> tuple[bool, str | None, bytes, str | None]:
        async with serving(sized) as server:
            client = await connect(server)
            await client.send(get())
            answer = await client.answer()
            return answer.chunked, answer.header("transfer-encoding"), answer.body, await _again(client)

    assert run(scenario()) == (False, None, b"abcdef", "200")


def test_a_body_longer_or_shorter_than_its_content_length_cuts_the_connection() -> None:
    async def liar(request: Request, responder: Responder) -> None:
        responder.start(200, [(b"content-length", b"4")])
        if request.path == "/long":
            with pytest.raises(RuntimeError, match="longer than its content-length"):
                await responder.write(b"too long")
        else:
            responder.end(b"ab")

    async def scenario(path: str) -> bytes:
        async with serving(liar) as server:
            client = await connect(server)
            await client.send(get(path) + get("/next"))
            return await asyncio.wait_for(client.reader.read(), 5)

    long, short = run(scenario("/long")), run(scenario("/short"))
    assert long == b""  # the connection ends before anything of this answer left
    assert short.endswith(b"\r\n\r\nab")  # two of four bytes: visibly truncated, nothing after


def test_writes_wait_while_the_client_does_not_read() -> None:
    written = 0

    async def firehose(request: Request, responder: Responder) -> None:
        nonlocal written
        responder.start(200, [(b"content-length", str(64 * MiB).encode())])
        piece = bytes(64 * 1024)
        for _ in range(1024):
            await responder.write(piece)
            written += len(piece)
        responder.end()

    async def scenario() -> tuple[int, int]:
        async with serving(firehose) as server:
            client = await connect(server, limit=64 * 1024)
            await client.send(get())
            await asyncio.sleep(0.5)
            stalled_at = written
            answer = await client.answer()
            return stalled_at, len(answer.body)

    stalled_at, received = run(scenario())
    assert stalled_at < 32 * MiB  # the handler waited for the client instead of buffering everything
    assert received == 64 * MiB


def test_expect_100_continue_is_answered_when_the_handler_reads() -> None:
    async def scenario() -> tuple[int, bytes]:
        async with serving(echo) as server:
            client = await connect(server)
            await client.send(
                b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n"
            )
            interim = await client.answer()  # the client waits for this before sending the body
            await client.send(b"hello")
            return interim.status, (await client.answer()).body

    assert run(scenario()) == (100, b"hello")


def test_expect_100_continue_unread_gets_no_100_and_the_connection_closes() -> None:
    async def refuse(request: Request, responder: Responder) -> None:
        responder.answer(401, [], b"no")

    async def scenario() -> tuple[int, str | None, bool]:
        async with serving(refuse) as server:
            client = await connect(server)
            await client.send(
                b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n"
            )
            answer = await client.answer()
            # The client may still send the body: it must not be taken for a request.
            await client.send(b"GET /x")
            return answer.status, answer.header("connection"), await client.closed()

    assert run(scenario()) == (401, "close", True)


def test_head_gets_the_headers_and_no_body() -> None:
    async def handler(request: Request, responder: Responder) -> None:
        if request.path == "/whole":
            responder.answer(200, [], b"twelve bytes")
        elif request.path == "/sized":
            responder.start(200, [(b"content-length", b"5")])
            responder.end(b"hello")
        else:
            responder.start(200, [])
            await responder.write(b"streamed")
            responder.end()

    async def scenario() -> list[tuple[str | None, str | None]]:
        async with serving(handler) as server:
            client = await connect(server)
            seen = []
            for path in ("/whole", "/sized", "/streamed"):
                await client.send(get(path, method="HEAD"))
                answer = await client.answer(head=True)
                seen.append((answer.header("content-length"), answer.header("transfer-encoding")))
            assert await _again(client) == "200"  # no stray body bytes were sent
            return seen

    assert run(scenario()) == [("12", None), ("5", None), (None, None)]


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_carry_no_body(status: int) -> None:
    async def handler(request: Request, responder: Responder) -> None:
        if request.path == "/again":
            responder.answer(200, [], b"")
        elif request.path == "/answer":
            responder.answer(status, [(b"etag", b'"v1"')], b"dropped")
        else:
            responder.start(status, [(b"etag", b'"v1"')])
            await responder.write(b"dropped")
            responder.end(b"too")

    async def scenario() -> list[tuple[int, str | None, str | None]]:
        async with serving(handler) as server:
            client = await connect(server)
            seen = []
            for path in ("/answer", "/stream"):
                await client.send(get(path))
                answer = await client.answer()
                framing = answer.header("content-length"), answer.header("transfer-encoding")
                seen.append((answer.status, *framing))
            assert await _again(client) == "200"
            return seen

    assert run(scenario()) == [(status, None, None)] * 2


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_unread_body_is_never_parsed_as_the_next_request(framing: str) -> None:
    """The body holds what looks like a request; the handler answers without reading it. The next
    request on the connection must be answered as itself, or the connection closed: never smuggled."""
    smuggled = b"GET /smuggled HTTP/1.1\r\nhost: t\r\n\r\n"

    async def scenario() -> list[bytes]:
        async def handler(request: Request, responder: Responder) -> None:
            responder.answer(200, [], request.path.encode())

        async with serving(handler) as server:
            client = await connect(server)
            if framing == "chunked":
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)
                head = b"POST /first HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
                await client.send(head + body[:10])
                await asyncio.sleep(0.1)  # answered while its body is still arriving
                await client.send(body[10:] + get("/second"))
            else:
                await client.send(post("/first", smuggled) + get("/second"))
            bodies = []
            for _ in range(2):
                try:
                    bodies.append((await client.answer()).body)
                except asyncio.IncompleteReadError:
                    break  # closed instead: fine, as long as nothing was misread
            return bodies

    bodies = run(scenario())
    assert b"/smuggled" not in bodies
    assert bodies in ([b"/first", b"/second"], [b"/first"])


def test_a_large_unread_body_closes_the_connection_after_the_answer() -> None:
    async def refuse(request: Request, responder: Responder) -> None:
        responder.answer(413, [], b"too big")

    async def scenario() -> tuple[int, bool]:
        async with serving(refuse) as server:
            client = await connect(server)
            size = 8 * MiB
            client.writer.write(f"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {size}\r\n\r\n".encode())
            client.writer.write(bytes(size))
            answer = await client.answer()
            with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
                await asyncio.wait_for(client.writer.drain(), 5)
                await client.send(get())  # the server reads and drops, then closes: never served
                await client.answer()
            return answer.status, await client.closed()

    assert run(scenario()) == (413, True)


def test_a_stalled_body_is_refused_with_408() -> None:
    errors: list[BaseException] = []

    async def reader(request: Request, responder: Responder) -> None:
        assert request.body is not None
        try:
            await request.body.read()
            await request.body.read()
        except BaseException as error:
            errors.append(error)
            raise

    async def scenario() -> tuple[int, str, bool]:
        async with serving(reader, body_timeout=0.3) as server:
            client = await connect(server)
            await client.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc")
            answer = await client.answer()
            return answer.status, answer.problem()["detail"], await client.closed()

    status, detail, closed = run(scenario())
    assert (status, closed) == (408, True)
    assert detail == "the request body stalled for more than 0.3 s"
    assert errors and isinstance(errors[0], asyncio.CancelledError | ClientDisconnected)


def test_a_stalled_body_after_the_answer_started_cuts_the_connection() -> None:
    async def streaming_echo(request: Request, responder: Responder) -> None:
        responder.start(200, [])
        assert request.body is not None
        while chunk := await request.body.read():
            await responder.write(chunk)
        responder.end()

    async def scenario() -> bytes:
        async with serving(streaming_echo, body_timeout=0.3) as server:
            client = await connect(server)
            await client.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc")
            return await asyncio.wait_for(client.reader.read(), 5)

    received = run(scenario())
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b"3\r\nabc\r\n")  # no last chunk: the client knows the answer is cut


async def _again(client: Client) -> str | None:
    """The status of one more GET on the same connection (proves the framing before it was exact)."""
    await client.send(get("/again"))
    return str((await client.answer()).status)


def test_a_request_after_a_discarded_body_is_not_timed_as_idle() -> None:
    async def handler(request: Request, responder: Responder) -> None:
        if request.path == "/slow":
            await asyncio.sleep(0.6)  # longer than the keep-alive timeout: it is not idle time
        responder.answer(200, [], request.path.encode())

    async def scenario() -> list[bytes]:
        async with serving(handler, keepalive_timeout=0.3) as server:
            client = await connect(server)
            await client.send(b"POST /first HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab")
            first = await client.answer()  # answered unread: the rest of its body is dropped
            await client.send(b"c\r\n0\r\n\r\n" + get("/slow"))
            return [first.body, (await client.answer()).body]

    assert run(scenario()) == [b"/first", b"/slow"]


def test_write_of_nothing_sends_the_head_alone() -> None:
    gate = asyncio.Event()

    async def handler(request: Request, responder: Responder) -> None:
        responder.start(200, [(b"content-type", b"text/event-stream")])
        await responder.write(b"")
        await gate.wait()
        responder.end(b"data: 1\n\n")

    async def scenario() -> tuple[bytes, bytes]:
        async with serving(handler) as server:
            client = await connect(server)
            await client.send(get())
            head = await asyncio.wait_for(client.reader.readuntil(b"\r\n\r\n"), 5)
            gate.set()
            rest = await asyncio.wait_for(client.reader.readuntil(b"0\r\n\r\n"), 5)
            return head, rest

    head, rest = run(scenario())
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in head
    assert rest == b"9\r\ndata: 1\n\n\r\n0\r\n\r\n"


def test_informational_answers_are_refused_to_the_handler() -> None:
    async def handler(request: Request, responder: Responder) -> None:
        with pytest.raises(ValueError, match="no 103 answer"):
            responder.start(103, [(b"link", b"</a.css>; rel=preload")])
        assert not responder.started
        responder.answer(200, [], b"ok")

    async def scenario() -> tuple[int, bytes]:
        async with serving(handler) as server:
            client = await connect(server)
            await client.send(get())
            answer = await client.answer()
            return answer.status, answer.body

    assert run(scenario()) == (200, b"ok")


def test_a_write_cancelled_while_waiting_does_not_break_the_next_one() -> None:
    piece = bytes(8 * MiB)

    async def impatient(request: Request, responder: Responder) -> None:
        responder.start(200, [(b"content-length", str(3 * len(piece)).encode())])
        for _ in range(3):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(responder.write(piece), 0.05)  # the bytes are queued either way
        responder.end()

    async def scenario() -> int:
        async with serving(impatient) as server:
            client = await connect(server, limit=64 * 1024)
            await client.send(get())
            await asyncio.sleep(0.3)  # not reading: the writes wait, and time out
            return len((await client.answer()).body)

    assert run(scenario()) == 24 * MiB


def test_expect_100_continue_is_not_sent_once_the_body_is_arriving() -> None:
    async def scenario() -> tuple[int, bool]:
        async with serving(echo, body_timeout=0.3) as server:
            client = await connect(server)
            head = b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\nexpect: 100-continue\r\n\r\n"
            await client.send(head + b"hello")  # without waiting, then stalls: the body timeout applies
            answer = await client.answer()
            return answer.status, await client.closed()

    status, closed = run(scenario())
    assert status == 408  # not 100: the first answer is the timeout, no interim one before it
    assert closed


def test_a_client_that_reads_nothing_of_its_answer_is_cut_after_the_send_timeout() -> None:
    outcome: list[str] = []

    async def firehose(request: Request, responder: Responder) -> None:
        responder.start(200, [])
        try:
            while True:
                await responder.write(bytes(1024 * 1024))
        except BaseException as error:
            outcome.append(type(error).__name__)
            raise

    async def scenario() -> int:
        async with serving(firehose, send_timeout=0.3) as server:
            client = await connect(server, limit=64 * 1024)
            await client.send(get())
            for _ in range(300):
                if outcome:
                    break
                await asyncio.sleep(0.01)
            return server.connections

    assert run(scenario()) == 0
    assert outcome in (["CancelledError"], ["ClientDisconnected"])
