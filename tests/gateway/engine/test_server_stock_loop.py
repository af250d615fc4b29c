"""The workers run uvloop; the server must not depend on it. A few scenarios on asyncio's own loop."""

from __future__ import annotations

import asyncio

from engine_wire import connect, get, hello, serving

from gateway.engine.http import Request, Responder


def test_keep_alive_pipelining_and_refusal_on_the_stock_loop() -> None:
    async def scenario() -> list[int]:
        async with serving(hello) as server:
            client = await connect(server)
            await client.send(get("/a") + get("/b") + b"GET / HTTP/1.1\r\n\r\n")
            statuses = [(await client.answer()).status for _ in range(3)]
            assert await client.closed()
            return statuses

    assert asyncio.run(scenario()) == [200, 200, 400]


def test_streamed_body_and_lingering_close_on_the_stock_loop() -> None:
    async def refuse_after_reading_some(request: Request, responder: Responder) -> None:
        assert request.body is not None
        await request.body.read()
        responder.answer(413, [], b"enough")

    async def scenario() -> tuple[int, bool]:
        async with serving(refuse_after_reading_some) as server:
            client = await connect(server)
            size = 4 * 1024 * 1024
            client.writer.write(f"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {size}\r\n\r\n".encode())
            client.writer.write(bytes(size))
            answer = await client.answer()
            return answer.status, await client.closed()

    assert asyncio.run(scenario()) == (413, True)
