"""The gateway's HTTP/1.1 server: one `HttpServerProtocol` per client connection, llhttp (httptools)
parsing, each request handed to the handler as its own task, answers written in request order.

    data_received -> llhttp -> on_url/on_header -> on_headers_complete (limits): Request, task
                            -> on_body -> StreamBody (back-pressure) -> on_message_complete
    handler -> StreamResponder -> transport.write ...  -> answer_ended: next pipelined request, or idle

Pipelining: requests parsed while one is answered wait in a queue (at most MAX_PIPELINE), and the
socket is not read until the queue is empty, nor while the client leaves its answers unread, so a
client cannot pile up requests or answers in memory. Timeouts (limits.py) are deadlines on the
connection that the server scans every `Limits.tick`: no timer object per request.

Refusals (refusals.py) are problem documents with `connection: close`. llhttp's strict mode already
refuses conflicting Content-Length/Transfer-Encoding, duplicate Content-Length, obs-fold, bare LF or
CR, and a Transfer-Encoding that does not end in chunked; the protocol adds the head limits, Host
(exactly one in HTTP/1.1, at most one in HTTP/1.0; RFC 9112 3.2), Transfer-Encoding in HTTP/1.0
(RFC 9112 6.1) and the request-target forms (RFC 9112 3.2).

A connection that ends while the request may still be sending (an error answer, an unread body, a
`Connection: close`) ends with a lingering close: our side shuts writing, reads and drops what comes
for up to LINGER seconds, then closes, so the client reads the answer instead of a reset.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Coroutine
from types import CoroutineType
from typing import Any, NoReturn, cast

import httptools

from agora.errors import AgoraError
from gateway.engine.body import StreamBody
from gateway.engine.http import AnswerCut, Begin, ClientDisconnected, Handler, Headers, InFlight, Request
from gateway.engine.limits import Limits
from gateway.engine.refusals import (
    BadRequest,
    HeadersTooLarge,
    RequestTimeout,
    TargetTooLong,
    VersionNotSupported,
    refusal_bytes,
)
from gateway.engine.responder import StreamResponder

__all__ = ["HttpServerProtocol", "Server", "serve"]

log = logging.getLogger(__name__)

LINGER = 2.0
MAX_PIPELINE = 64  # requests parsed ahead and waiting for their turn, per connection
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}
_NEVER = float("inf")
_OWS = (b" ", b"\t")

# what the connection's deadline is for
_NONE, _HEAD, _BODY, _IDLE, _LINGER = range(5)
TIMEOUT_LINGER = 0.5  # seconds a connection refused for a slow head is read (and dropped) before it closes
# why reading is paused (bits)
_PAUSE_BODY, _PAUSE_QUEUE, _PAUSE_WRITE = 1, 2, 4


class _Refused(Exception):
    """Raised from a parser callback to stop llhttp; the refusal itself is in `_refusal`."""


class HttpServerProtocol(asyncio.Protocol):
    __slots__ = (
        "_chunked",
        "_expect",
        "_handler",
        "_head_seen",
        "_header_bytes",
        "_header_count",
        "_headers",
        "_hosts",
        "_in_head",
        "_keep_alive",
        "_length",
        "_limits",
        "_on_done",
        "_parser",
        "_paused",
        "_peer",
        "_pending",
        "_queue",
        "_receiving",
        "_refusal",
        "_requests",
        "_responder",
        "_server",
        "_stopped",
        "_task",
        "_transport",
        "_url",
        "closed",
        "deadline",
        "drain_waiter",
        "kind",
        "loop",
        "write_deadline",
        "write_paused",
    )

    def __init__(self, handler: Handler, limits: Limits, server: Server) -> None:
        self._handler = handler
        self._limits = limits
        self._server = server
        self.loop = server.loop
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport = cast(asyncio.Transport, None)
        self._peer = ""
        self._on_done = self._task_done
        self.closed = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self._paused = 0
        self.deadline = _NEVER
        self.kind = _NONE
        self.write_deadline = _NEVER  # while a write waits for the client to read
        # the message being parsed
        self._in_head = False
        self._url = b""
        self._headers: Headers = []
        self._header_bytes = self._header_count = self._head_seen = self._hosts = 0
        self._length = -1
        self._chunked = self._expect = False
        self._keep_alive = True
        self._receiving: StreamBody | None = None
        self._refusal: AgoraError | None = None
        # the requests
        self._requests = 0
        # The request's task, or the request its handler's `begin` carries on from callbacks.
        self._task: asyncio.Task[None] | InFlight | None = None
        self._responder: StreamResponder | None = None
        self._queue: deque[StreamResponder] = deque()
        self._pending: AgoraError | None = None  # a refusal waiting for the answers before it
        self._stopped = False  # no more requests are parsed on this connection

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) else ""
        self._server.conns.add(self)
        if self._server.closing:
            self._stopped = True
            self._transport.close()
            return
        self.kind, self.deadline = _HEAD, self.loop.time() + self._limits.head_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self._stopped = True
        self.deadline = _NEVER
        self._server.conns.discard(self)
        self._queue.clear()
        gone = ClientDisconnected("the client closed the connection")
        if self._receiving is not None:
            self._receiving.fail(gone)
        responder = self._responder
        if responder is not None and not responder.ended:
            body = responder.request.body
            if isinstance(body, StreamBody):
                body.fail(gone)
            if self._task is not None:
                self._task.cancel()
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        # The parser and the stored done-callback point back here: let refcounting free the
        # connection now rather than the cycle collector later.
        del self._parser, self._on_done

    def eof_received(self) -> bool | None:
        # As nginx does: a client that shuts its side has gone (its handler is cancelled). A lingering
        # connection was waiting for exactly this.
        return None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.write_deadline = _NEVER
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self._paused & _PAUSE_WRITE and not self.closed:
            self._resume(_PAUSE_WRITE)
            if self._responder is None and self.kind != _LINGER:
                self._next()

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The bytes after an Upgrade (or CONNECT) head are not HTTP/1.1: the request is answered
            # without the upgrade, and the connection closes (its keep_alive is False).
            self._stopped = True
        except httptools.HttpParserError as exc:
            refusal = self._refusal
            if refusal is None:
                cause = exc.__context__
                if isinstance(cause, _Refused) or (cause is None and self._stopped):
                    return  # bytes after a `connection: close` request, or past the pipelining bound
                if cause is not None:  # a bug of ours in a callback, not the client's fault
                    log.error("the HTTP server failed on a request", exc_info=cause)
                    refusal = AgoraError("the server failed to read this request")
                else:
                    refusal = BadRequest(f"the request is malformed: {exc}")
            self._refuse(refusal)
            return
        if self._in_head:
            # llhttp keeps a header line until it is whole: bound the bytes of a head still arriving,
            # so one endless line cannot grow either.
            self._head_seen += len(data)
            limits = self._limits
            if self._head_seen > limits.max_url_bytes + limits.max_header_bytes:
                self._refuse(HeadersTooLarge(f"the request head is over {self._head_seen} bytes"))

    # llhttp callbacks

    def on_message_begin(self) -> None:
        if self._stopped:
            raise _Refused
        if len(self._queue) >= MAX_PIPELINE:
            # One read can hold thousands of tiny requests: past this many waiting, the last one
            # answered closes the connection, and the client retries the rest (RFC 9112 9.3.2).
            self._queue[-1].request.keep_alive = False
            self._stopped = True
            raise _Refused
        if self.kind == _IDLE:  # the first byte of the next request: its head is timed from now
            self.kind, self.deadline = _HEAD, self.loop.time() + self._limits.head_timeout
        self._in_head = True
        self._url = b""
        self._headers = []
        self._header_bytes = self._header_count = self._head_seen = self._hosts = 0
        self._length = -1
        self._chunked = self._expect = False

    def on_url(self, url: bytes) -> None:
        url = self._url + url if self._url else url
        self._url = url
        if len(url) > self._limits.max_url_bytes:
            self._stop(TargetTooLong(f"the request target is longer than {self._limits.max_url_bytes} bytes"))

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            self._trailer(name, value)
            return
        self._header_bytes += len(name) + len(value)
        name = name.lower()
        if value.endswith(_OWS):  # llhttp keeps trailing whitespace; it is not part of the value
            value = value.rstrip(b" \t")
        if name == b"host":
            self._hosts += 1
        elif name == b"content-length":
            self._length = int(value)  # llhttp checked the digits and refused duplicates
        elif name == b"transfer-encoding":
            self._chunked = True  # llhttp refuses a request coding that does not end in chunked
        elif name == b"expect":
            self._expect = value.lower() == b"100-continue"
        self._headers.append((name, value))

    def _trailer(self, name: bytes, value: bytes) -> None:
        """A trailer field after a chunked body: counted against the limits, then dropped."""
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        self._check_headers(self._header_count)

    def _check_headers(self, count: int) -> None:
        # The head's bytes are bounded while they arrive (data_received), so the fields are checked
        # once, when the head is whole, rather than one by one.
        limits = self._limits
        if count > limits.max_headers:
            self._stop(HeadersTooLarge(f"more than {limits.max_headers} header fields"))
        if self._header_bytes + 4 * count > limits.max_header_bytes:
            self._stop(HeadersTooLarge(f"more than {limits.max_header_bytes} bytes of header fields"))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._header_count = count = len(self._headers)
        self._check_headers(count)
        parser = self._parser
        version = parser.get_http_version()
        if version != "1.1" and version != "1.0":
            self._stop(VersionNotSupported(f"HTTP/{version} is not served here; use HTTP/1.1"))
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        if self._hosts != 1 and (self._hosts or version == "1.1"):
            detail = f"an HTTP/{version} request needs one Host header, not {self._hosts}"
            self._stop(BadRequest(detail))
        has_body = self._chunked or self._length > 0
        if self._chunked and version == "1.0":
            self._stop(BadRequest("Transfer-Encoding in an HTTP/1.0 request"))
        url = self._url
        if url[:1] == b"/":
            if b"#" in url:
                url = url.partition(b"#")[0]
            if b"?" in url:
                raw_path, _, raw_query = url.partition(b"?")
                path, query = raw_path.decode("latin-1"), raw_query.decode("latin-1")
            else:
                path, query = url.decode("latin-1"), ""
        elif url[:7] == b"http://" or url[:8] == b"https://":
            parsed = httptools.parse_url(url)  # absolute-form (RFC 9112 3.2.2)
            path = (parsed.path or b"/").decode("latin-1")
            query = (parsed.query or b"").decode("latin-1")
        elif url == b"*" and method == "OPTIONS":
            path, query = "*", ""
        else:
            self._stop(BadRequest("the request target is neither a path nor an absolute URL"))
        self._requests += 1
        keep_alive = parser.should_keep_alive() and not self._server.closing
        if self._requests >= self._limits.max_requests:
            keep_alive = False
        if parser.should_upgrade():
            if has_body:
                self._stop(BadRequest("an Upgrade request with a body is not served here"))
            keep_alive = False
        self._keep_alive = keep_alive
        body: StreamBody | None = None
        if has_body:
            body = self._receiving = StreamBody(self, expect=self._expect and version == "1.1")
            if not body.expect:
                self.kind, self.deadline = _BODY, self.loop.time() + self._limits.body_timeout
        elif self.kind == _HEAD:
            self.kind, self.deadline = _NONE, _NEVER
        request = Request(
            method,
            path,
            query,
            self._headers,
            http_version=version,
            peer=self._peer,
            body=body,
            keep_alive=keep_alive,
        )
        responder = StreamResponder(self, request)
        if self._responder is None and not self._paused & _PAUSE_WRITE:
            self._start(responder)
        else:
            self._queue.append(responder)
            self._pause(_PAUSE_QUEUE)

    def on_body(self, data: bytes) -> None:
        body = self._receiving
        if body is None:
            return
        if body.expect:  # the client did not wait for `100 Continue`: no need to send it now
            body.expect = False
            self.kind = _BODY
        if not body.feed(data):
            self._close_softly()  # an answered request's body, too long to wait for
            raise _Refused
        if self.kind == _BODY:
            self.deadline = self.loop.time() + self._limits.body_timeout

    def on_message_complete(self) -> None:
        body = self._receiving
        if body is not None:
            self._receiving = None
            body.end()
            if self.kind == _BODY:
                self.kind, self.deadline = _NONE, _NEVER
        if not self._keep_alive:
            self._stopped = True
        elif body is not None and body.discarding and self._responder is None:
            self._idle()

    # the requests

    def _start(self, responder: StreamResponder) -> None:
        self._responder = responder
        begin = self._server.begin
        if begin is None:
            self._run(self._handler(responder.request, responder))  # type: ignore[arg-type]
            return
        work = begin(responder.request, responder)
        if isinstance(work, CoroutineType):
            self._run(work)
        else:
            self._task = cast(InFlight, work)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = self.loop.create_task(work)
        self._task = task
        self._server.tasks.add(task)
        task.add_done_callback(self._on_done)

    def adopt(self, responder: StreamResponder, work: Coroutine[Any, Any, None]) -> None:
        """The rest of a request that `begin` started, as the request's task from now on."""
        if self._responder is responder:
            self._run(work)
        else:  # the request was ended or refused meanwhile: nobody waits for that work
            work.close()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._server.tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if task is not self._task:
            if error is not None:
                log.error("the handler failed after its answer ended", exc_info=error)
            return
        if self.closed:
            return  # the client went away; the handler ended as it saw fit
        if isinstance(error, AnswerCut):
            detail = "the answer was cut"  # the handler said why; the head is out: the connection is cut
        elif error is not None:
            log.error("the handler failed", exc_info=error)
            detail = "the handler failed before it answered"
        else:
            log.error("the handler returned without ending its answer")
            detail = "the handler returned without answering"
        self._refuse_now(AgoraError(detail))

    def answer_ended(self, responder: StreamResponder) -> None:
        """The responder wrote its last byte: move on to the next request, idle, or close."""
        self._responder = None
        self._task = None
        if self.closed:
            return
        if responder.close or self._server.closing:
            self._close_softly()
            return
        body = responder.request.body
        if isinstance(body, StreamBody) and not body.received:
            body.discard()  # read and dropped up to DISCARD_LIMIT, so the next request parses cleanly
            self._resume(_PAUSE_BODY)
            return
        if self.write_paused:
            # The client is not reading its answers: nothing more is read or started until it does
            # (resume_writing), so answers cannot pile up in memory. It has the keep-alive time to.
            self._pause(_PAUSE_WRITE)
            self._idle()
            return
        self._next()

    def _next(self) -> None:
        """The answer before has left (or the client read enough of it): what the connection does now."""
        if self._queue:
            if self.kind == _IDLE:  # set while the client was not reading
                self.kind, self.deadline = _NONE, _NEVER
            following = self._queue.popleft()
            if not self._queue:
                self._resume(_PAUSE_QUEUE)
            self._start(following)
        elif self._pending is not None:
            self._refuse_now(self._pending)
        elif self._in_head:
            self.kind, self.deadline = _HEAD, self.loop.time() + self._limits.head_timeout
        elif self._receiving is None:
            self._idle()

    def _idle(self) -> None:
        self.kind, self.deadline = _IDLE, self.loop.time() + self._limits.keepalive_timeout

    def must_close(self, request: Request) -> bool:
        """Whether the answer to `request` must end the connection (it says `connection: close`)."""
        if self._server.closing:
            return True
        body = request.body
        # The client waits for `100 Continue` that will not come: it may send the body or not; only
        # closing leaves no doubt about where the next request starts.
        return isinstance(body, StreamBody) and body.expect and not body.received

    # the responder's and the body's side

    def transport_write(self, data: bytes) -> None:
        if not self.closed:
            self._transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ClientDisconnected("the client closed the connection")
        waiter = self.drain_waiter
        if waiter is None or waiter.done():  # done: a writer before was cancelled while waiting
            waiter = self.drain_waiter = self.loop.create_future()
            self.write_deadline = self.loop.time() + self._limits.send_timeout
        await waiter
        if self.closed:
            raise ClientDisconnected("the client closed the connection")

    def cut(self, responder: StreamResponder) -> None:
        """Ends the connection mid-answer, so the client sees a truncated answer, never a wrong one."""
        self._stopped = True
        if self._responder is responder:
            self._responder = self._task = None
        if self.closed:
            return
        if responder.request.http_version == "1.0":
            self._transport.abort()  # a close-delimited body would look complete after a FIN
        else:
            self._transport.close()

    def body_full(self) -> None:
        self._pause(_PAUSE_BODY)

    def body_drained(self) -> None:
        if self._paused & _PAUSE_BODY:
            self._resume(_PAUSE_BODY)
            if self.kind == _BODY:  # the client was waiting for us, not we for it
                self.deadline = self.loop.time() + self._limits.body_timeout

    def send_continue(self) -> None:
        responder = self._responder
        if responder is not None and responder.started:
            raise ClientDisconnected("the answer started before the body was asked for")
        self.transport_write(_CONTINUE)
        if self._receiving is not None:
            self.kind, self.deadline = _BODY, self.loop.time() + self._limits.body_timeout

    # reading

    def _pause(self, why: int) -> None:
        if not self._paused and not self._transport.is_closing():
            self._transport.pause_reading()
        self._paused |= why

    def _resume(self, why: int) -> None:
        if self._paused & why:
            self._paused &= ~why
            if not self._paused and not self._transport.is_closing():
                self._transport.resume_reading()

    # refusals, timeouts, closing

    def _stop(self, refusal: AgoraError) -> NoReturn:
        """From a parser callback: records the refusal and stops llhttp."""
        self._refusal = refusal
        raise _Refused

    def _refuse(self, refusal: AgoraError) -> None:
        """Refuses the message being parsed; answers before it go out first."""
        self._stopped = True
        self._refusal = None
        self._in_head = False
        body = self._receiving
        if body is not None:
            self._receiving = None
            if body.discarding:  # nobody waits for this body's answer any more
                self._close_softly()
                return
            body.fail(ClientDisconnected(f"the request body was refused: {refusal.detail}"))
            current = self._responder
            if current is not None and current.request.body is body:
                self._refuse_now(refusal)
                return
            if self._queue and self._queue[-1].request.body is body:
                self._queue.pop()
        if self._responder is None and not self._queue:
            self._refuse_now(refusal)
        else:
            self._pending = refusal

    def _refuse_now(self, refusal: AgoraError) -> None:
        """Answers `refusal` in place of the current request (if any) and closes."""
        self._stopped = True
        if self.closed:
            return
        head_only = False
        responder = self._responder
        if responder is not None and not responder.ended:
            responder.ended = True
            task, self._task, self._responder = self._task, None, None
            if task is not None and not task.done():
                task.cancel()
            if responder.head_sent:
                self.cut(responder)
                return
            head_only = responder.request.method == "HEAD"
        self._transport.write(refusal_bytes(refusal, head_only=head_only))
        self._close_softly()

    def _close_softly(self) -> None:
        self._stopped = True
        self._queue.clear()
        if self.closed or self.kind == _LINGER:
            return
        self.kind, self.deadline = _LINGER, self.loop.time() + LINGER
        if self._transport.is_closing():
            return
        if self._paused:
            self._paused = 0
            self._transport.resume_reading()
        if self._transport.can_write_eof():
            self._transport.write_eof()
        else:
            self._transport.close()

    def expire(self) -> None:
        """The deadline passed (called by the server's scan)."""
        kind = self.kind
        self.kind, self.deadline = _NONE, _NEVER
        limits = self._limits
        if kind == _IDLE:
            self._stopped = True
            if self.write_paused:  # answers still unread: closing would wait for them for ever
                self._transport.abort()
            else:
                self._transport.close()
        elif kind == _HEAD:
            self._refuse(RequestTimeout(f"the request head did not arrive within {limits.head_timeout:g} s"))
            if self.kind == _LINGER:  # a client this slow gets a short linger: it may be dripping on purpose
                self.deadline = min(self.deadline, self.loop.time() + TIMEOUT_LINGER)
        elif kind == _BODY:
            if self._paused:  # we are not reading: the client is not the one stalling
                self.kind, self.deadline = _BODY, self.loop.time() + limits.body_timeout
                return
            self._refuse(RequestTimeout(f"the request body stalled for more than {limits.body_timeout:g} s"))
        elif kind == _LINGER:
            self._transport.abort()

    def send_expired(self) -> None:
        """The client read nothing of its answer for send_timeout: cut (closing would wait to flush)."""
        self.write_deadline = _NEVER
        self._stopped = True
        if not self.closed:
            log.info("cut a client that read nothing for %g s", self._limits.send_timeout)
            self._transport.abort()

    def shutdown(self) -> None:
        """The server stops: an idle connection closes now, a busy one after its answer."""
        if self.closed or self.kind == _LINGER:
            return
        if self._responder is None and not self._queue and not self._in_head and self._receiving is None:
            self._stopped = True
            self._transport.close()

    def abort(self) -> None:
        if not self.closed:
            self._transport.abort()


class Server:
    """A listening HTTP server; `serve()` makes one."""

    def __init__(self, handler: Handler, limits: Limits, loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.limits = limits
        self.loop = loop
        self.conns: set[HttpServerProtocol] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.closing = False
        # The handler's fast entry, when it has one (gateway/engine/http.py: Begin).
        self.begin: Begin | None = getattr(handler, "begin", None)
        self._listener: asyncio.Server | None = None
        self._ticker: asyncio.TimerHandle | None = None

    def protocol(self) -> HttpServerProtocol:
        return HttpServerProtocol(self.handler, self.limits, self)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._listener.sockets) if self._listener is not None else ()

    @property
    def port(self) -> int:
        """The first listening socket's port (handy with port 0)."""
        return int(self.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        """Open client connections (lingering ones included)."""
        return len(self.conns)

    def listen(self, listener: asyncio.Server) -> None:
        self._listener = listener
        self._ticker = self.loop.call_later(self.limits.tick, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        for conn in tuple(self.conns):
            if conn.deadline <= now:
                conn.expire()
            if conn.write_deadline <= now:
                conn.send_expired()
        self._ticker = self.loop.call_later(self.limits.tick, self._tick)

    async def close(self, grace: float) -> None:
        """Stops accepting, closes idle connections at once, lets answers in flight finish within
        `grace` seconds, then cuts what is left (and cancels its handlers)."""
        self.closing = True
        if self._listener is not None:
            self._listener.close()
        for conn in tuple(self.conns):
            conn.shutdown()
        until = self.loop.time() + grace
        while (self.conns or self.tasks) and self.loop.time() < until:
            await asyncio.sleep(min(0.02, max(0.0, until - self.loop.time())))
        for conn in tuple(self.conns):
            conn.abort()
        for task in tuple(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(tuple(self.tasks), timeout=1.0)
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._listener is not None:
            await self._listener.wait_closed()


async def serve(
    handler: Handler,
    host: str | None,
    port: int,
    *,
    limits: Limits | None = None,
    sock: socket.socket | None = None,
    reuse_port: bool = False,
    backlog: int = 2048,
) -> Server:
    """Listens on `host:port` (or on `sock`, already bound) and serves each request with `handler`."""
    loop = asyncio.get_running_loop()
    server = Server(handler, limits or Limits(), loop)
    if sock is not None:
        listener = await loop.create_server(server.protocol, sock=sock, backlog=backlog)
    else:
        listener = await loop.create_server(
            server.protocol, host, port, reuse_port=reuse_port or None, backlog=backlog
        )
    server.listen(listener)
    return server
