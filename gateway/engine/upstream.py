"""The upstream client: HTTP/1.1 to the upstreams on asyncio protocols and httptools, a `Transport`.

    UpstreamClient          send(UpstreamRequest) for the proxy; send_encoded() for callers that hold
      │                     the header lines as bytes already
      └── OriginPool        one per (scheme, host, port): keep-alive connections, limits, idle expiry,
          │                 DNS and the address check (upstream_pool.py)
          └── UpstreamConnection   one socket: writes a request, parses the answer (upstream_connection.py)

A request head (request line, `Host`, the headers, the framing) goes out in one write, together with
the first piece of the body; the rest of a body follows one write per chunk, chunked unless the caller
gave a `Content-Length`, waiting whenever the upstream's socket is full (the write timeout bounds the
wait). The caller's task does all the waiting: no task is created per request.

Retries: one, on a fresh connection, when a kept-alive connection turns out closed before any byte of
the answer (the upstream timed it out as the request was written), and only for an idempotent method
whose body, if any, was already whole in the head. Never after response bytes, never for POST/PATCH.

Errors are the gateway's: `GatewayTimeout` for connect, read and write timeouts (and a pool that stays
full), `BadGateway` for anything refused, reset, malformed or unverifiable; what the request body's
iterator raises passes through unchanged.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from gateway.config.model import Timeouts
from gateway.engine.upstream_connection import Stale, UpstreamConnection
from gateway.engine.upstream_pool import AddressCheck, OriginPool, PoolLimits
from gateway.engine.upstream_response import UpstreamResponse
from gateway.errors import BadGateway
from gateway.upstream.transport import UpstreamRequest

__all__ = ["IDEMPOTENT", "AddressCheck", "PoolLimits", "UpstreamClient", "UpstreamResponse", "tls_context"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_CHUNKED = b"Transfer-Encoding: chunked\r\n"
_EXPECTS_BODY = frozenset({"POST", "PUT", "PATCH"})  # sent `Content-Length: 0` when they have no body


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Certificates verified against the system's CAs, plus those in `ca_file` (a private CA)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    context.set_alpn_protocols(["http/1.1"])
    return context


def _split_origin(origin: str) -> tuple[str, str, int]:
    scheme, sep, netloc = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not netloc:
        raise BadGateway(f"the upstream URL {origin!r} is not an http(s) origin")
    if netloc.startswith("["):  # an IPv6 literal: [::1]:8080
        host, _, rest = netloc[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    if "@" in host:
        raise BadGateway(f"the upstream URL {origin!r} carries credentials, which the gateway does not send")
    try:
        port = int(port_text) if port_text else 443 if scheme == "https" else 80
    except ValueError:
        raise BadGateway(f"the upstream URL {origin!r} has an invalid port") from None
    return scheme, host.lower(), port


def _head_lines(pool: OriginPool, method: str, target: str, headers: bytes, has_host: bool) -> list[bytes]:
    """The request line, `Host` unless `has_host`, and the caller's header lines."""
    if " " in target or "\n" in target or "\r" in target:  # a plugin's rewrite must not split the line
        raise BadGateway("the upstream request target contains whitespace")
    try:
        request_line = f"{method} {target} HTTP/1.1\r\n".encode("latin-1")
    except UnicodeEncodeError:
        raise BadGateway("the upstream request target is not latin-1 text") from None
    return [request_line, headers] if has_host else [request_line, pool.host_line, headers]


class UpstreamClient:
    """The gateway's `Transport`: one per worker, pools per upstream origin."""

    def __init__(
        self,
        *,
        limits: PoolLimits | None = None,
        ca_file: str | Path | None = None,
        tls: ssl.SSLContext | None = None,
        address_check: AddressCheck | None = None,
    ) -> None:
        self.limits = limits or PoolLimits()
        self.address_check = address_check
        self.ca_file = ca_file
        self._tls = tls  # built on the first https origin when not given
        self._pools: dict[str, OriginPool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:  # connections die with their loop
            self._pools = {}
        self._loop = loop
        if self.ca_file and self._tls is None:  # a wrong path fails the start, not the first request
            self._tls = self._tls_context()

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return tls_context(self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise BadGateway(f"the upstream CA bundle {self.ca_file} cannot be loaded: {exc}") from None

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()
        await asyncio.sleep(0)  # the transports' close callbacks run before the loop may stop

    def pool(self, origin: str) -> OriginPool:
        """The pool of "scheme://host[:port]" (as the snapshot writes upstream origins)."""
        found = self._pools.get(origin)
        if found is None:
            scheme, host, port = _split_origin(origin)
            tls = None
            if scheme == "https":
                if self._tls is None:
                    self._tls = self._tls_context()
                tls = self._tls
            loop = self._loop or asyncio.get_running_loop()
            self._loop = loop
            found = OriginPool(
                scheme,
                host,
                port,
                limits=self.limits,
                tls=tls,
                address_check=self.address_check,
                loop=loop,
            )
            self._pools[origin] = found
        return found

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        url = request.url
        cut = url.find("/", url.find("//") + 2)
        origin, target = (url[:cut], url[cut:]) if cut >= 0 else (url, "/")
        headers = request.headers
        if headers:
            text = "\r\n".join(map(": ".join, headers)) + "\r\n"
            # Header values may come from plugins: a line break would smuggle a header or a request.
            if text.count("\n") != len(headers) or text.count("\r") != len(headers):
                raise BadGateway("a header for the upstream contains a line break")
            try:
                block = text.encode("latin-1")
            except UnicodeEncodeError:
                raise BadGateway("a header for the upstream is not latin-1 text") from None
            lowered = block.lower()
            has_host = lowered.startswith(b"host:") or b"\nhost:" in lowered
            has_length = (request.body is not None or request.method in _EXPECTS_BODY) and (
                lowered.startswith(b"content-length:") or b"\ncontent-length:" in lowered
            )
        else:
            block, has_host, has_length = b"", False, False
        return await self.send_encoded(
            origin,
            request.method,
            target,
            block,
            request.body,
            request.timeouts,
            has_host=has_host,
            has_length=has_length,
        )

    async def send_encoded(
        self,
        origin: str,
        method: str,
        target: str,
        headers: bytes,
        body: AsyncIterable[bytes] | None,
        timeouts: Timeouts,
        *,
        has_host: bool = False,
        has_length: bool = False,
    ) -> UpstreamResponse:
        """The fast entry: `headers` are header lines as sent, each ending in CRLF, already checked for
        stray line breaks; `Host` is added unless `has_host`; a body is chunked unless `has_length` (the
        lines hold its `Content-Length`); POST, PUT and PATCH without a body get `Content-Length: 0`
        unless `has_length`. `target` is the path and query, percent-encoded."""
        pool = self._pools.get(origin) or self.pool(origin)
        parts = _head_lines(pool, method, target, headers, has_host)
        iterator: AsyncIterator[bytes] | None = None
        chunked = False
        if body is not None:
            chunked = not has_length
            if chunked:
                parts.append(_CHUNKED)
            iterator = aiter(body)
            try:
                first = await anext(iterator)
            except StopAsyncIteration:  # empty: the whole body is in the head
                iterator = None
                parts.append(b"\r\n0\r\n\r\n" if chunked else b"\r\n")
            else:
                parts.append(b"\r\n")
                if first:
                    parts.append(b"%x\r\n%b\r\n" % (len(first), first) if chunked else first)
        else:
            parts.append(_end_without_body(method, has_length))
        head = b"".join(parts)
        head_only = method == "HEAD"
        conn = pool.take() or await pool.acquire(timeouts.connect)
        try:
            return await conn.exchange(head, iterator, chunked, head_only, timeouts.read, timeouts.write)
        except Stale:
            if iterator is not None:  # the body was partly read: it cannot be sent again
                raise _stale(pool) from None
        return await self.resend(origin, head, method, timeouts)

    def begin_encoded(
        self,
        origin: str,
        method: str,
        target: str,
        headers: bytes,
        timeouts: Timeouts,
        *,
        has_host: bool = False,
        has_length: bool = False,
    ) -> tuple[UpstreamConnection, asyncio.Future[UpstreamResponse], bytes] | None:
        """`send_encoded` of a request without a body, on an idle kept-alive connection, without a
        coroutine (the gateway's direct lane): (the connection, the future of its answer's head, the
        request as sent), as `UpstreamConnection.begin` describes them. None, with nothing sent, when no
        idle connection is at hand: the caller then uses `send_encoded`. Raises `BadGateway` as
        `send_encoded` does for a target that cannot be sent."""
        pool = self._pools.get(origin) or self.pool(origin)
        parts = _head_lines(pool, method, target, headers, has_host)
        parts.append(_end_without_body(method, has_length))
        conn = pool.take()
        if conn is None:
            return None
        head = b"".join(parts)
        waiter = conn.begin(head, method == "HEAD", timeouts.read)
        return None if waiter is None else (conn, waiter, head)

    async def resend(self, origin: str, head: bytes, method: str, timeouts: Timeouts) -> UpstreamResponse:
        """The retry of a request whose whole `head` met a pooled connection the upstream had just
        closed (`Stale`): on a fresh connection, not another pooled one, and only an idempotent method."""
        pool = self._pools.get(origin) or self.pool(origin)
        if method not in IDEMPOTENT:
            raise _stale(pool)
        conn = await pool.connect(timeouts.connect)
        return await conn.exchange(head, None, False, method == "HEAD", timeouts.read, timeouts.write)


def _end_without_body(method: str, has_length: bool) -> bytes:
    """The end of a body-less request's head: POST, PUT and PATCH say `Content-Length: 0` unless the
    header lines have one (RFC 9110 8.6; some upstreams answer 411 without)."""
    return b"Content-Length: 0\r\n\r\n" if method in _EXPECTS_BODY and not has_length else b"\r\n"


def _stale(pool: OriginPool) -> BadGateway:
    return BadGateway(f"the upstream {pool.netloc} closed a kept-alive connection as the request was sent")
