"""A request body as the server receives it: pieces handed to the handler as they arrive, with
back-pressure on the client's socket.

The parser pushes pieces in (`feed`, `end`, `fail`); the handler pulls them out (`read`). While more than
HIGH_WATER bytes wait unread, the connection stops reading its socket, so a client sending faster than
the handler forwards fills its own buffers and blocks, instead of the gateway's memory. A read takes
everything waiting at once (one await per burst, not per TCP segment) and resumes reading.

`Expect: 100-continue`: the first read that finds nothing asks the connection to answer `100 Continue`;
a handler that answers without reading never invites the body.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from gateway.engine.http import ClientDisconnected

if TYPE_CHECKING:
    from .server import HttpServerProtocol

__all__ = ["HIGH_WATER", "StreamBody"]

HIGH_WATER = 64 * 1024
# Bytes of an answered, unread body read and dropped to keep the connection; past this, it closes.
DISCARD_LIMIT = 1024 * 1024


class StreamBody:
    __slots__ = (
        "_buffered",
        "_chunks",
        "_conn",
        "_dropped",
        "_error",
        "_waiter",
        "discarding",
        "expect",
        "received",
    )

    def __init__(self, conn: HttpServerProtocol, *, expect: bool) -> None:
        self._conn = conn
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._error: ClientDisconnected | None = None
        self._dropped = 0
        self.expect = expect  # the client waits for `100 Continue` before sending
        self.received = False  # every byte has arrived
        self.discarding = False  # the answer ended without reading: pieces are dropped

    @property
    def complete(self) -> bool:
        return self.received and not self._chunks

    async def read(self) -> bytes:
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered = 0
                self._conn.body_drained()
                return data
            if self.received:
                return b""
            if self._error is not None:
                raise self._error
            if self.expect:
                self.expect = False
                try:
                    self._conn.send_continue()
                except ClientDisconnected as error:
                    self._error = error
                    raise
            waiter = self._waiter = self._conn.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    # The parser's side.

    def feed(self, data: bytes) -> bool:
        """Adds a piece; False when this (discarded) body has grown past DISCARD_LIMIT."""
        if self.discarding:
            self._dropped += len(data)
            return self._dropped <= DISCARD_LIMIT
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER:
            self._conn.body_full()
        self._wake()
        return True

    def end(self) -> None:
        self.received = True
        self._wake()

    def fail(self, error: ClientDisconnected) -> None:
        if not self.received and self._error is None:
            self._error = error
            self._wake()

    def discard(self) -> None:
        """Nobody will read: drop what waits and what comes."""
        self.discarding = True
        self._dropped = self._buffered
        self._chunks.clear()
        self._buffered = 0
        if self._error is None:
            self._error = ClientDisconnected("the answer ended before the body was read")
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
