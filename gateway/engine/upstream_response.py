"""The answer of an upstream, as the proxy reads it (`gateway.upstream.transport.UpstreamResponse`).

Its connection (upstream_connection.py) feeds it body pieces as they arrive; `read()` hands out all
that is buffered in one piece. Past `HIGH_WATER` buffered bytes the connection stops reading its socket
until the consumer catches up, so a slow client slows the upstream instead of filling memory.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayTimeout
from gateway.types import Headers

if TYPE_CHECKING:
    from .upstream_connection import UpstreamConnection

__all__ = ["HIGH_WATER", "UpstreamResponse", "expire"]

HIGH_WATER = 64 * 1024  # body bytes buffered before the upstream socket stops reading


def expire(waiter: asyncio.Future[Any], error: Exception) -> None:
    if not waiter.done():
        waiter.set_exception(error)


class UpstreamResponse:
    """The answer as `gateway.upstream.transport.UpstreamResponse`: status, raw headers (lower-cased
    names) and a body read piece by piece."""

    __slots__ = ("_chunks", "_conn", "_done", "_error", "_read_timeout", "_size", "_waiter", "headers",
                 "status")  # fmt: skip

    def __init__(self, conn: UpstreamConnection, status: int, headers: Headers, read_timeout: float) -> None:
        self.status = status
        self.headers = headers
        self._conn: UpstreamConnection | None = conn  # None once the body is complete or dropped
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False  # every body byte has arrived
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._read_timeout = read_timeout

    # Called by the connection.
    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._size >= HIGH_WATER and self._conn is not None:
            self._conn.pause_reading()

    def _end(self, error: Exception | None) -> None:
        self._conn = None
        self._done = error is None
        self._error = error
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # The consumer's side.
    async def read(self) -> bytes:
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._size = 0
                conn = self._conn
                if conn is not None and conn.reading_paused:
                    conn.resume_reading()
                return data
            if self._done:
                return b""
            if self._error is not None:
                raise self._error
            conn = self._conn
            assert conn is not None
            waiter = self._waiter = conn.loop.create_future()
            timer = conn.loop.call_later(
                self._read_timeout,
                expire,
                waiter,
                GatewayTimeout(f"the upstream sent no more of its body within {self._read_timeout:g} s"),
            )
            try:
                await waiter
            except BaseException:  # a timeout, or the caller cancelled: the rest will never be read
                self.close()
                raise
            finally:
                timer.cancel()
                self._waiter = None

    def whole(self) -> bytes | None:
        """The rest of the body at once when every byte of it has arrived (a small answer usually
        comes whole with its head); else None, and nothing is taken."""
        if not self._done:
            return None
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._size = 0
        return data

    def at_eof(self) -> bool:
        return self._done and not self._chunks

    def close(self) -> None:
        conn = self._conn
        if conn is not None:
            self._conn = None
            conn.drop()
