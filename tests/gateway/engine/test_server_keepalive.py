"""Connection reuse: keep-alive, pipelining, HTTP/1.0, `Connection: close`, idle timeout, max requests."""

from __future__ import annotations

import asyncio

from engine_wire import connect, get, hello, run, serving

from gateway.engine.http import Request, Responder


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async def scenario() -> list[tuple[int, bytes, str | None]]:
        async with serving(hello) as server:
            client = await connect(server)
            seen = []
            for path in ("/a", "/b", "/c"):
                await client.send(get(path))
                answer = await client.answer()
                seen.append((answer.status, answer.body, answer.header("connection")))
            assert server.connections == 1
            await client.close()
            return seen

    assert run(scenario()) == [(200, b"hello /a", None), (200, b"hello /b", None), (200, b"hello /c", None)]


def test_pipelined_requests_are_answered_in_order() -> None:
    async def slow_first(request: Request, responder: Responder) -> None:
        if request.path == "/slow":
            await asyncio.sleep(0.2)  # the second request is parsed meanwhile and must wait its turn
        responder.answer(200, [], request.path.encode())

    async def scenario() -> list[bytes]:
        async with serving(slow_first) as server:
            client = await connect(server)
            await client.send(get("/slow") + get("/fast") + get("/third?x=1"))
            bodies = [(await client.answer()).body for _ in range(3)]
            await client.close()
            return bodies

    assert run(scenario()) == [b"/slow", b"/fast", b"/third"]


def test_http10_client_gets_its_answer_then_the_connection_closes() -> None:
    async def scenario() -> tuple[int, str | None, bytes, bool]:
        async with serving(hello) as server:
            client = await connect(server)
            await client.send(get("/old", version="1.0") + get("/ignored", version="1.0"))
            answer = await client.answer()
            return answer.status, answer.header("connection"), answer.body, await client.closed()

    assert run(scenario()) == (200, "close", b"hello /old", True)


def test_http10_keep_alive_is_honoured_with_a_content_length() -> None:
    async def scenario() -> list[tuple[bytes, str | None]]:
        async with serving(hello) as server:
            client = await connect(server)
            seen = []
            for path in ("/1", "/2"):
                await client.send(get(path, version="1.0", headers="Connection: keep-alive\r\n"))
                answer = await client.answer()
                seen.append((answer.body, answer.header("connection")))
            await client.close()
            return seen

    assert run(scenario()) == [(b"hello /1", "keep-alive"), (b"hello /2", "keep-alive")]


def test_http10_answer_without_length_is_close_delimited() -> None:
    async def streaming(request: Request, responder: Responder) -> None:
        responder.start(200, [])
        await responder.write(b"one ")
        responder.end(b"two")

    async def scenario() -> tuple[str | None, str | None, bytes, bool]:
        async with serving(streaming) as server:
            client = await connect(server)
            await client.send(get("/", version="1.0", headers="Connection: keep-alive\r\n"))
            answer = await client.answer()  # read to EOF: no length, no chunks
            return answer.header("transfer-encoding"), answer.header("connection"), answer.body, True

    assert run(scenario()) == (None, "close", b"one two", True)


def test_connection_close_is_answered_then_closed() -> None:
    async def scenario() -> tuple[str | None, bool]:
        async with serving(hello) as server:
            client = await connect(server)
            await client.send(get("/", headers="Connection: close\r\n") + get("/never"))
            answer = await client.answer()
            return answer.header("connection"), await client.closed()

    assert run(scenario()) == ("close", True)


def test_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async def scenario() -> tuple[int, bool, int]:
        async with serving(hello, keepalive_timeout=0.3) as server:
            client = await connect(server)
            await client.send(get())
            status = (await client.answer()).status
            closed = await client.closed(timeout=3)
            await asyncio.sleep(0.05)
            return status, closed, server.connections

    assert run(scenario()) == (200, True, 0)


def test_max_requests_per_connection_then_connection_close() -> None:
    async def scenario() -> tuple[list[str | None], bool]:
        async with serving(hello, max_requests=3) as server:
            client = await connect(server)
            seen = []
            for _ in range(3):
                await client.send(get())
                seen.append((await client.answer()).header("connection"))
            return seen, await client.closed()

    assert run(scenario()) == ([None, None, "close"], True)


def test_a_thousand_requests_on_one_connection_are_all_answered() -> None:
    async def scenario() -> int:
        async with serving(hello) as server:
            client = await connect(server)
            answered = 0
            for start in range(0, 1000, 50):  # in pipelined batches of 50
                await client.send(b"".join(get(f"/{n}") for n in range(start, start + 50)))
                for n in range(start, start + 50):
                    answer = await client.answer()
                    assert answer.body == f"hello /{n}".encode()
                    answered += 1
            await client.close()
            return answered

    assert run(scenario()) == 1000


def test_a_deep_pipeline_is_cut_after_a_bounded_number_of_waiting_requests() -> None:
    async def scenario() -> tuple[list[bytes], str | None, bool]:
        async with serving(hello) as server:
            client = await connect(server)
            await client.send(b"".join(get(f"/{n}") for n in range(500)))
            bodies, last = [], None
            while True:
                answer = await client.answer()
                bodies.append(answer.body)
                if answer.header("connection") == "close":
                    last = answer.header("connection")
                    break
            return bodies, last, await client.closed()

    bodies, last, closed = run(scenario())
    assert 1 < len(bodies) < 500
    assert bodies == [f"hello /{n}".encode() for n in range(len(bodies))]  # in order, none skipped
    assert last == "close" and closed


def test_a_head_split_across_reads_is_put_back_together() -> None:
    async def scenario() -> bytes:
        async with serving(hello) as server:
            client = await connect(server)
            raw = get("/split/target?q=1", headers="x-long: " + "v" * 100 + "\r\n")
            for start in range(0, len(raw), 7):  # 7 bytes at a time, each its own read
                await client.send(raw[start : start + 7])
                await asyncio.sleep(0.002)
            return (await client.answer()).body

    assert run(scenario()) == b"hello /split/target"


def test_a_client_that_does_not_read_its_answers_stops_being_served() -> None:
    """Pipelined requests from a client that reads nothing: the answers must not pile up in memory."""
    started = 0
    big = bytes(4 * 1024 * 1024)

    async def heavy(request: Request, responder: Responder) -> None:
        nonlocal started
        started += 1
        responder.answer(200, [], big)

    async def scenario() -> tuple[int, int]:
        async with serving(heavy) as server:
            client = await connect(server, limit=64 * 1024)
            await client.send(b"".join(get(f"/{n}") for n in range(40)))
            await asyncio.sleep(0.5)
            started_while_unread = started
            for _ in range(40):
                assert len((await client.answer()).body) == len(big)
            return started_while_unread, started

    while_unread, total = run(scenario())
    assert while_unread < 10  # a few fill the socket buffers, then the server waits for the client
    assert total == 40


def test_the_handler_gets_headers_in_order_with_repeats_and_no_body_when_there_is_none() -> None:
    seen: list[tuple[str, str, list[tuple[bytes, bytes]], bool]] = []

    async def record(request: Request, responder: Responder) -> None:
        seen.append((request.method, request.query, request.headers, request.body is None))
        responder.answer(204, [], b"")

    async def scenario() -> None:
        async with serving(record) as server:
            client = await connect(server)
            head = "X-Dup: 1\r\nx-OTHER: \xe9\r\nx-dup: 2\r\nContent-Length: 0\r\n"
            await client.send(
                get("/p?a=1&b=%20", method="DELETE", headers=head).replace(b"\xc3\xa9", b"\xe9")
            )
            await client.answer()

    run(scenario())
    assert seen == [
        (
            "DELETE",
            "a=1&b=%20",
            [
                (b"host", b"test"),
                (b"x-dup", b"1"),
                (b"x-other", b"\xe9"),
                (b"x-dup", b"2"),
                (b"content-length", b"0"),
            ],
            True,
        )
    ]
