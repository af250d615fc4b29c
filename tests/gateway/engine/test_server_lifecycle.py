"""A handler's task and the connection's life: disconnects cancel the handler, handler failures become
a 500 or a cut, graceful shutdown finishes what is in flight."""

from __future__ import annotations

import asyncio

import pytest
from engine_wire import Answer, connect, get, hello, run, serving

from gateway.engine.http import Request, Responder
from gateway.engine.server import serve


def test_a_client_that_disconnects_cancels_the_handler() -> None:
    seen: list[str] = []
    entered = asyncio.Event()

    async def waits(request: Request, responder: Responder) -> None:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def scenario() -> int:
        async with serving(waits) as server:
            client = await connect(server)
            await client.send(get())
            await asyncio.wait_for(entered.wait(), 5)
            await client.close()
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            return server.connections

    assert run(scenario()) == 0
    assert seen == ["cancelled"]


def test_a_client_that_disconnects_mid_body_fails_the_read_or_cancels() -> None:
    seen: list[str] = []

    async def reads(request: Request, responder: Responder) -> None:
        assert request.body is not None
        try:
            while await request.body.read():
                pass
        except BaseException as error:
            seen.append(type(error).__name__)
            raise

    async def scenario() -> None:
        async with serving(reads) as server:
            client = await connect(server)
            await client.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\nabc")
            await asyncio.sleep(0.1)
            await client.close()
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)

    run(scenario())
    assert seen in (["CancelledError"], ["ClientDisconnected"])


def test_handler_failure_before_the_answer_is_a_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    async def fails(request: Request, responder: Responder) -> None:
        raise LookupError("boom")

    async def scenario() -> tuple[Answer, bool]:
        async with serving(fails) as server:
            client = await connect(server)
            await client.send(get())
            answer = await client.answer()
            return answer, await client.closed()

    answer, closed = run(scenario())
    assert (answer.status, answer.header("connection"), closed) == (500, "close", True)
    assert answer.problem()["detail"] == "the handler failed before it answered"
    assert "boom" in caplog.text


def test_handler_failure_after_start_before_any_byte_left_is_still_a_500() -> None:
    async def fails(request: Request, responder: Responder) -> None:
        responder.start(200, [])  # the head waits for the first body piece
        raise LookupError("boom")

    async def scenario() -> int:
        async with serving(fails) as server:
            client = await connect(server)
            await client.send(get())
            return (await client.answer()).status

    assert run(scenario()) == 500


def test_handler_failure_after_bytes_left_cuts_the_connection() -> None:
    async def fails(request: Request, responder: Responder) -> None:
        responder.start(200, [])
        await responder.write(b"partial")
        raise LookupError("boom")

    async def scenario() -> bytes:
        async with serving(fails) as server:
            client = await connect(server)
            await client.send(get())
            return await asyncio.wait_for(client.reader.read(), 5)

    received = run(scenario())
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b"7\r\npartial\r\n")  # no last chunk: visibly cut


def test_handler_that_returns_without_answering_is_a_500() -> None:
    async def forgets(request: Request, responder: Responder) -> None:
        return None

    async def scenario() -> Answer:
        async with serving(forgets) as server:
            client = await connect(server)
            await client.send(get())
            return await client.answer()

    answer = run(scenario())
    assert answer.status == 500
    assert answer.problem()["detail"] == "the handler returned without answering"


def test_graceful_shutdown_finishes_in_flight_closes_idle_and_refuses_new() -> None:
    async def slow(request: Request, responder: Responder) -> None:
        if request.path == "/slow":
            await asyncio.sleep(0.3)
        await hello(request, responder)

    async def scenario() -> tuple[bool, bool, Answer, bool, int]:
        server = await serve(slow, "127.0.0.1", 0)
        port = server.port
        idle = await connect(server)
        await idle.send(get())
        await idle.answer()
        busy = await connect(server)
        await busy.send(get("/slow"))
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(server.close(5.0))
        idle_closed = await idle.closed(timeout=1)
        try:
            await asyncio.open_connection("127.0.0.1", port)
            refused = False
        except ConnectionRefusedError:
            refused = True
        answer = await busy.answer()
        busy_closed = await busy.closed()
        await closing
        await idle.close()
        await busy.close()
        return idle_closed, refused, answer, busy_closed, server.connections

    idle_closed, refused, answer, busy_closed, left = run(scenario())
    assert idle_closed and refused and busy_closed
    assert (answer.status, answer.body, answer.header("connection")) == (200, b"hello /slow", "close")
    assert left == 0


def test_graceful_shutdown_cuts_what_outlives_the_grace() -> None:
    cancelled: list[bool] = []

    async def endless(request: Request, responder: Responder) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> tuple[bool, float]:
        server = await serve(endless, "127.0.0.1", 0)
        client = await connect(server)
        await client.send(get())
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.close(0.2)
        took = loop.time() - started
        closed = await client.closed(timeout=1)
        await client.close()
        return closed, took

    closed, took = run(scenario())
    assert closed and cancelled == [True]
    assert took < 5


def test_handler_failure_on_head_is_a_500_without_body() -> None:
    async def fails(request: Request, responder: Responder) -> None:
        raise LookupError("boom")

    async def scenario() -> tuple[int, str | None, bytes, bool]:
        async with serving(fails) as server:
            client = await connect(server)
            await client.send(get(method="HEAD"))
            answer = await client.answer(head=True)
            return answer.status, answer.header("content-type"), answer.body, await client.closed()

    status, kind, body, closed = run(scenario())
    assert (status, kind, body, closed) == (500, "application/problem+json", b"", True)


def test_a_handler_still_running_after_its_answer_does_not_hold_the_next_request() -> None:
    second_answered = asyncio.Event()
    tail_done: list[bool] = []

    async def with_a_tail(request: Request, responder: Responder) -> None:
        await hello(request, responder)
        if request.path == "/first":
            await asyncio.wait_for(second_answered.wait(), 5)  # a log phase, after the answer
            tail_done.append(True)
        else:
            second_answered.set()

    async def scenario() -> list[bytes]:
        async with serving(with_a_tail) as server:
            client = await connect(server)
            await client.send(get("/first") + get("/second"))
            bodies = [(await client.answer()).body for _ in range(2)]
            await asyncio.sleep(0.05)
            return bodies

    assert run(scenario()) == [b"hello /first", b"hello /second"]
    assert tail_done == [True]


def test_a_bug_in_the_server_is_a_500_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import gateway.engine.server as server_module

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(server_module, "StreamResponder", broken)

    async def scenario() -> tuple[int, bool]:
        async with serving(hello) as server:
            client = await connect(server)
            await client.send(get())
            answer = await client.answer()
            return answer.status, await client.closed()

    assert run(scenario()) == (500, True)
    assert "the HTTP server failed on a request" in caplog.text and "oops" in caplog.text
