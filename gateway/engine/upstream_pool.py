"""The keep-alive connections to one upstream origin (scheme, host, port), with their limits.

Idle connections are kept on a stack: the most recently used is handed out first (its upstream is the
least likely to have timed it out), the oldest expire from the bottom. A connection is opened to an
address the client resolved itself (`loop.getaddrinfo`) and, when the client has an `address_check`,
approved by it: the socket connects to the very address that was checked, so a name that resolves
differently a moment later (DNS rebinding) cannot slip past the check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.engine.upstream_connection import UpstreamConnection, no_answer
from gateway.errors import BadGateway, GatewayTimeout

__all__ = ["AddressCheck", "OriginPool", "PoolLimits"]

# How often the answers awaited are checked against their read timeouts: one timer per pool and tick
# rather than one per request (a uvloop timer armed and cancelled costs about 1.2 us; an exchange puts
# its waiter and deadline in a dict). So a read timeout fires up to one tick late. The watch outlives
# `close()`, as per-request timers did: an exchange still waiting then gets its 504 all the same.
DEADLINE_TICK = 0.1

# (host as written in the URL, one resolved IP) -> None to allow, else the reason to refuse.
AddressCheck = Callable[[str, str], "str | None"]
_Address = tuple[int, tuple[Any, ...]]  # (family, sockaddr)


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolLimits:
    """Per origin and worker. `idle_timeout` stays below common upstream keep-alive timeouts (Node.js
    closes after 5 s, nginx after 75 s): a connection the upstream may have closed is not offered. The
    limits on an answer's head keep an upstream from growing the gateway's memory (beyond them: 502)."""

    max_connections: int = 256  # open at once (busy, idle or connecting); more requests wait
    max_idle: int = 64  # kept open while unused; more are closed when released
    idle_timeout: float = 4.0  # seconds an unused connection is kept
    dns_ttl: float = 10.0  # seconds a resolved name is reused for new connections
    max_head_bytes: int = 32 * 1024  # of an answer's status line and headers (nginx: 4-8 KiB)
    max_headers: int = 100  # header fields in an answer

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_idle < 0:
            raise ValueError("max_connections must be positive and max_idle not negative")
        if self.idle_timeout <= 0 or self.dns_ttl < 0:
            raise ValueError("idle_timeout must be positive and dns_ttl not negative")


class OriginPool:
    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        *,
        limits: PoolLimits,
        tls: ssl.SSLContext | None,
        address_check: AddressCheck | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.limits = limits
        self.tls = tls
        self.address_check = address_check
        self.loop = loop
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
        bracketed = f"[{ascii_host}]" if ":" in host else ascii_host
        self.netloc = bracketed if port == (443 if scheme == "https" else 80) else f"{bracketed}:{port}"
        self.host_line = f"Host: {self.netloc}\r\n".encode("ascii")
        self.idle: list[UpstreamConnection] = []
        self.total = 0  # open connections, busy, idle or connecting
        self.closed = False
        self._all: set[UpstreamConnection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        # an exchange's waiter for its answer's head -> (deadline in loop time, the timeout in seconds)
        self._awaiting: dict[asyncio.Future[Any], tuple[float, float]] = {}
        self._watcher: asyncio.TimerHandle | None = None
        self._resolved: list[_Address] = []
        self._resolved_until = 0.0
        self._literal: list[_Address] | None = None
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            self._literal = [(family, (host, port))]

    # -- handing out connections ---------------------------------------------------------------------

    def take(self) -> UpstreamConnection | None:
        """A kept-alive connection if one is idle and usable, without a coroutine (the common case)."""
        idle = self.idle
        if idle:
            now = self.loop.time()
            expiry = self.limits.idle_timeout
            while idle:
                conn = idle.pop()
                transport = conn.transport
                if (
                    conn.open
                    and now - conn.idle_since < expiry
                    and transport is not None
                    and not transport.is_closing()  # the upstream's FIN came, connection_lost not yet
                ):
                    conn.reused = True
                    return conn
                conn.close()
        return None

    async def acquire(self, timeout: float) -> UpstreamConnection:
        """A kept-alive connection if one is idle (`take`), else a new one; waits (up to `timeout`)
        while the origin has `max_connections` open."""
        deadline = 0.0
        while True:
            conn = self.take()
            if conn is not None:
                return conn
            if self.total < self.limits.max_connections:
                return await self.connect(timeout)
            if not deadline:
                deadline = self.loop.time() + timeout
            await self._wait(deadline, timeout)

    async def _wait(self, deadline: float, timeout: float) -> None:
        waiter = self.loop.create_future()
        self._waiters.append(waiter)
        timer = self.loop.call_at(deadline, _expire, waiter, timeout, self.netloc)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake()  # woken, then cancelled: the next waiter gets the turn
            raise
        finally:
            timer.cancel()

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def release(self, conn: UpstreamConnection) -> None:
        """A connection whose exchange ended cleanly."""
        idle = self.idle
        if len(idle) >= self.limits.max_idle or self.closed:
            conn.close()
            return
        conn.idle_since = self.loop.time()
        idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.limits.idle_timeout, self._sweep)
        if self._waiters:
            self._wake()

    def lost(self, conn: UpstreamConnection) -> None:
        """Every connection, once, when it closes (or fails to open)."""
        self.total -= 1
        self._all.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        if self._waiters:
            self._wake()

    def _sweep(self) -> None:
        self._sweeper = None
        idle = self.idle
        expiry = self.limits.idle_timeout
        now = self.loop.time()
        while idle and now - idle[0].idle_since >= expiry:
            idle.pop(0).close()
        if idle:
            self._sweeper = self.loop.call_at(idle[0].idle_since + expiry, self._sweep)

    # -- the answers awaited: read timeouts ---------------------------------------------------------

    def awaiting(self, waiter: asyncio.Future[Any], deadline: float, seconds: float) -> None:
        """An exchange awaits its answer's head on `waiter` until `deadline` (loop time)."""
        self._awaiting[waiter] = (deadline, seconds)
        if self._watcher is None:
            self._watcher = self.loop.call_later(DEADLINE_TICK, self._watch)

    def answered(self, waiter: asyncio.Future[Any]) -> None:
        self._awaiting.pop(waiter, None)

    def _watch(self) -> None:
        self._watcher = None
        awaiting = self._awaiting
        now = self.loop.time()
        for waiter, (deadline, seconds) in list(awaiting.items()):
            if deadline <= now:
                del awaiting[waiter]
                no_answer(waiter, seconds)
        if awaiting:
            self._watcher = self.loop.call_later(DEADLINE_TICK, self._watch)

    def close(self) -> None:
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._all):
            conn.drop()

    # -- opening connections -------------------------------------------------------------------------

    async def connect(self, timeout: float) -> UpstreamConnection:
        """A new connection, never a pooled one (the retry after the keep-alive race uses this)."""
        self.total += 1
        conn = UpstreamConnection(self, self.loop)
        self._all.add(conn)
        try:
            async with asyncio.timeout(timeout):
                sock = await self._open_socket(await self._addresses())
                try:
                    await self.loop.create_connection(
                        lambda: conn,
                        sock=sock,
                        ssl=self.tls,
                        server_hostname=self.host if self.tls is not None else None,
                    )
                except BaseException:
                    sock.close()
                    raise
        except BaseException as exc:
            conn.drop()
            if isinstance(exc, TimeoutError):
                raise GatewayTimeout(
                    f"the upstream {self.netloc} did not accept a connection within {timeout:g} s"
                ) from None
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise BadGateway(
                    f"the upstream {self.netloc} failed TLS verification: {exc.verify_message}"
                ) from None
            if isinstance(exc, ssl.SSLError):
                raise BadGateway(f"TLS with the upstream {self.netloc} failed: {exc.reason}") from None
            if isinstance(exc, OSError):
                reason = (
                    os.strerror(exc.errno) if exc.errno else str(exc)
                )  # asyncio's strerror names no cause
                raise BadGateway(f"the upstream {self.netloc} could not be reached: {reason}") from None
            raise
        return conn

    async def _open_socket(self, addresses: list[_Address]) -> socket.socket:
        error: OSError | None = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await self.loop.sock_connect(sock, sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
            except BaseException:
                sock.close()
                raise
            else:
                return sock
        assert error is not None
        raise error

    async def _addresses(self) -> list[_Address]:
        """The addresses to try, each approved by the address check."""
        addresses = self._literal
        if addresses is None:
            addresses = self._resolved
            if not addresses or self.loop.time() >= self._resolved_until:
                addresses = self._resolved = await self._resolve()
                self._resolved_until = self.loop.time() + self.limits.dns_ttl
        check = self.address_check
        if check is None:
            return addresses
        allowed: list[_Address] = []
        reason: str | None = None
        for address in addresses:
            refused = check(self.host, address[1][0])
            if refused is None:
                allowed.append(address)
            elif reason is None:
                reason = refused
        if not allowed:
            raise BadGateway(f"the connection to the upstream {self.netloc} was refused: {reason}")
        return allowed

    async def _resolve(self) -> list[_Address]:
        try:
            infos = await self.loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise BadGateway(f"the upstream host {self.host} could not be resolved: {exc.strerror}") from None
        found: list[_Address] = []
        for family, _, _, _, sockaddr in infos:
            if (family, sockaddr) not in found:
                found.append((family, sockaddr))
        if not found:
            raise BadGateway(f"the upstream host {self.host} has no address")
        return found


def _expire(waiter: asyncio.Future[None], timeout: float, netloc: str) -> None:
    if not waiter.done():
        waiter.set_exception(
            GatewayTimeout(f"no connection to the upstream {netloc} came free within {timeout:g} s")
        )
