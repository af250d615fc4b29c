"""The HTTP/1.1 protocol the gateway serves with: uvicorn's httptools protocol plus the limits it lacks.

uvicorn waits for a request's head (request line and headers) for ever and keeps every byte of it: a
client that sends one header byte a second (slowloris), or a megabyte of headers, holds a connection
and memory as long as it likes. Here, as nginx's `client_header_timeout` and `large_client_header_buffers`
do (and so Kong):

    head not complete within HEAD_TIMEOUT seconds of the connection or of its first byte   408, closed
    request target longer than MAX_URL_BYTES                                                414, closed
    more than MAX_HEADER_BYTES of headers, or more than MAX_HEADERS fields                  431, closed

The limits are read once per worker from the environment (`AGORA_HTTP_HEAD_TIMEOUT`,
`AGORA_HTTP_MAX_URL_BYTES`, `AGORA_HTTP_MAX_HEADER_BYTES`, `AGORA_HTTP_MAX_HEADERS`). Conflicting
`Content-Length` and `Transfer-Encoding` (request smuggling) are refused by llhttp itself with a 400.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["GuardedHttpToolsProtocol", "Limits"]


def _number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


class Limits:
    head_timeout = _number("AGORA_HTTP_HEAD_TIMEOUT", 10.0)
    max_url = int(_number("AGORA_HTTP_MAX_URL_BYTES", 8 * 1024))
    max_header_bytes = int(_number("AGORA_HTTP_MAX_HEADER_BYTES", 32 * 1024))
    max_headers = int(_number("AGORA_HTTP_MAX_HEADERS", 100))


_REASONS = {408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._url_bytes = self._header_bytes = self._header_count = self._head_seen = 0
        self._refused: _Refused | None = None
        self._pending: _Refused | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(Limits.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; the next head is timed when it begins
        self._answer(_Refused(408, "the request head did not arrive in time"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = self._header_bytes = self._header_count = self._head_seen = 0
        self._arm()

    def _refuse(self, status: int, detail: str) -> None:
        """From a parser callback: the exception stops llhttp, uvicorn then calls send_400_response."""
        self._pending = _Refused(status, detail)
        raise self._pending

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > Limits.max_url:
            self._refuse(414, f"the request target is longer than {Limits.max_url} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > Limits.max_headers:
            self._refuse(431, f"more than {Limits.max_headers} header fields")
        if self._header_bytes > Limits.max_header_bytes:
            self._refuse(431, f"more than {Limits.max_header_bytes} bytes of header fields")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_seen = 0
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._refused is not None:
            return
        super().data_received(data)
        # httptools hands a header to on_header only once it is complete: bound the bytes of a head
        # still arriving too, so one endless header line cannot grow without limit either.
        if self._refused is None and self._head_deadline is not None and not self.transport.is_closing():
            self._head_seen += len(data)
            if self._head_seen > Limits.max_url + Limits.max_header_bytes:
                self._answer(_Refused(431, "the request head is too large"))

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error; a limit of ours gets its own status instead."""
        pending, self._pending = self._pending, None
        if pending is None:
            super().send_400_response(msg)
        else:
            self._answer(pending)

    def _answer(self, refusal: _Refused) -> None:
        self._refused = refusal
        self._disarm()
        body = refusal.detail.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (refusal.status, _REASONS[refusal.status], len(body), body)
        )
        self.transport.close()
