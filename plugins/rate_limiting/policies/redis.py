"""The `redis` policy: counters in one Redis shared by every gateway, one round trip per call.

The check and the increments run in one Lua script (EVALSHA; loaded again after a Redis restart),
so two gateways can never both take the last unit of a limit. Each worker's event loop keeps one
connection to a Redis (pipe.py: an asyncio protocol with hiredis); nothing blocks the loop. Calls
made in the same turn of the event loop leave together in one write: each call is still one command
in one round trip, but what a write, a timer and a wake-up cost is paid once per batch.

When Redis cannot be reached, calls raise `PolicyUnavailable` and Redis is left alone for
`COOLDOWN` seconds, so an outage costs each request nothing (and never a timeout each); the first
call after the pause finds out whether it is back. The outage is logged once every `WARN_EVERY`
seconds with the number of calls that could not be counted, and its end is logged too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from . import Counter, Hit, PolicyUnavailable
from .pipe import Call, Pipe, fail, open_pipe, pack

__all__ = ["COOLDOWN", "WARN_EVERY", "RedisPolicy", "aclose"]

log = logging.getLogger("agora.plugins.rate_limiting")

COOLDOWN = 1.0
WARN_EVERY = 10.0

# KEYS: per counter, its current window's key and its previous window's key (read when sliding).
# ARGV: per counter, limit, weight of the previous window (0: fixed), ttl. Returns
# {allowed, current1, previous1, current2, previous2, ...}: counts after this call if allowed.
# `previous * weight + current + 1 <= limit` is windows.allows; Lua's numbers are doubles, as
# Python's floats, so both compute the same decision.
_SCRIPT = """
local n = #ARGV / 3
local counts = {}
local allowed = 1
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = 0
  local weight = tonumber(ARGV[3 * i - 1])
  if weight > 0 then
    previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  end
  counts[2 * i - 1] = current
  counts[2 * i] = previous
  if previous * weight + current + 1 > tonumber(ARGV[3 * i - 2]) then
    allowed = 0
  end
end
if allowed == 1 then
  for i = 1, n do
    local current = redis.call('INCR', KEYS[2 * i - 1])
    if current == 1 then
      redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[3 * i])
    end
    counts[2 * i - 1] = current
  end
end
table.insert(counts, 1, allowed)
return counts
"""


class _Health:
    """Whether Redis may be asked now, and the logging of outages (rate limited)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.uncounted = 0
        self.last_warning = -WARN_EVERY

    def may_try(self, now: float) -> bool:
        if self.down_since is None:
            return True
        if now >= self.retry_at:
            self.retry_at = now + COOLDOWN  # this call probes; the others keep skipping meanwhile
            return True
        self.uncounted += 1
        return False

    def failed(self, now: float, error: BaseException) -> None:
        if self.down_since is None:
            self.down_since = now
        self.retry_at = now + COOLDOWN
        self.uncounted += 1
        if now - self.last_warning >= WARN_EVERY:
            self.last_warning = now
            log.warning(
                "rate-limiting: Redis at %s unreachable for %.1f s (%s: %s); %d call(s) not counted; "
                "each plugin's fault_tolerant decides whether they are served",
                self.where, now - self.down_since, type(error).__name__, error, self.uncounted,
            )  # fmt: skip

    def succeeded(self, now: float) -> None:
        if self.down_since is not None:
            log.warning(
                "rate-limiting: Redis at %s reachable again after %.1f s; %d call(s) were not counted",
                self.where, now - self.down_since, self.uncounted,
            )  # fmt: skip
            self.down_since, self.uncounted, self.last_warning = None, 0, -WARN_EVERY


_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()
_LOAD = pack("SCRIPT", "LOAD", _SCRIPT)


class _Backend:
    """One pipelined connection (pipe.py), its call batcher and health per Redis and event loop."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        parts = urlsplit(url)  # logged without credentials
        self.health = _Health(f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path)
        self.pipe: Pipe | None = None
        self.opening: asyncio.Future[Pipe] | None = None  # the connection being made, shared
        self.pending: list[Call] = []
        self.sending: set[asyncio.Task[None]] = set()  # referenced until done (the loop holds weak ones)

    def evalsha(self, command: bytes) -> asyncio.Future[list[Any]]:
        """The script's reply to `command` (EVALSHA, packed), sent with the other calls of this loop turn."""
        loop = asyncio.get_running_loop()
        if not self.pending:
            loop.call_soon(self._flush)
        answer: asyncio.Future[list[Any]] = loop.create_future()
        self.pending.append((command, answer))
        return answer

    def _flush(self) -> None:
        calls, self.pending = self.pending, []
        pipe = self.pipe
        if pipe is not None and pipe.lost is None:
            pipe.send(calls)
            return
        task = asyncio.ensure_future(self._connect_and_send(calls))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _connect_and_send(self, calls: list[Call]) -> None:
        if self.opening is None:  # the first batch without a connection makes it; the others wait for it
            self.opening = asyncio.ensure_future(open_pipe(self.url, self.timeout, _LOAD))
        opening = self.opening
        try:
            pipe = await opening
        except BaseException as exc:  # every caller must hear of it, whatever it is
            fail(calls, exc if isinstance(exc, Exception) else RedisConnectionError("the policy was closed"))
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            if self.opening is opening:
                self.opening = None
        self.pipe = pipe
        pipe.send(calls)

    async def aclose(self) -> None:
        if self.opening is not None:
            self.opening.cancel()
        for task in list(self.sending):
            task.cancel()
        pipe, self.pipe = self.pipe, None
        if pipe is not None:
            pipe.close()
            await pipe.closed


_backends: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, float], _Backend]] = (
    weakref.WeakKeyDictionary()
)


def _backend(url: str, timeout: float) -> _Backend:
    # Keyed by loop: a connection belongs to the loop that opened it. Shared by the plugin instances
    # of every snapshot, so a hot reload neither reconnects nor leaks connections.
    per_loop = _backends.setdefault(asyncio.get_running_loop(), {})
    backend = per_loop.get((url, timeout))
    if backend is None:
        backend = per_loop[(url, timeout)] = _Backend(url, timeout)
    return backend


_ENCODED_MAX = 4096  # callers whose encoded script arguments are kept; forgotten all at once beyond


def _command(counters: Sequence[Counter]) -> bytes:
    """The EVALSHA of one call, packed."""
    keys: list[str] = []
    args: list[str] = []
    for c in counters:
        keys += (c.key, c.previous_key or c.key)
        args += (str(c.limit), repr(c.weight), str(c.ttl))
    return pack("EVALSHA", _SHA, str(len(keys)), *keys, *args)


class RedisPolicy:
    def __init__(self, url: str, timeout_ms: int) -> None:
        self.url = url
        self.timeout = timeout_ms / 1000
        # The rate-limiting plugin hands a caller the same counters until its shortest fixed window ends
        # (handler._counters): their command is packed once, not on every call.
        self._encoded: dict[int, tuple[Sequence[Counter], bytes]] = {}

    def _command(self, counters: Sequence[Counter]) -> bytes:
        cached = self._encoded.get(id(counters))
        if cached is not None and cached[0] is counters:
            return cached[1]
        command = _command(counters)
        if all(c.weight == 0 for c in counters):  # a sliding window's weight changes with every call
            if len(self._encoded) >= _ENCODED_MAX:
                self._encoded.clear()
            self._encoded[id(counters)] = (counters, command)  # kept with them: the id stays theirs
        return command

    async def hit(self, counters: Sequence[Counter]) -> Hit:
        reply = self.submit(counters)
        with contextlib.suppress(RedisError, OSError):  # `conclude` tells it
            await reply
        return self.conclude(reply, counters)

    def submit(self, counters: Sequence[Counter]) -> asyncio.Future[list[Any]]:
        """The call, sent with the other calls of this loop turn: the future of Redis's reply, which
        `conclude` reads. `PolicyUnavailable` at once while Redis rests after a failure."""
        backend = _backend(self.url, self.timeout)
        health = backend.health
        if not health.may_try(time.monotonic()):
            raise PolicyUnavailable(f"Redis at {health.where} is unreachable")
        return backend.evalsha(self._command(counters))

    def conclude(self, reply: asyncio.Future[list[Any]], counters: Sequence[Counter]) -> Hit:
        """The `Hit` of a reply `submit` returned, once it is done (`PolicyUnavailable` if it failed)."""
        health = _backend(self.url, self.timeout).health
        error = reply.exception()
        if error is not None:
            if not isinstance(error, RedisError | OSError):
                raise error
            health.failed(time.monotonic(), error)
            raise PolicyUnavailable(f"Redis at {health.where} is unreachable") from error
        if health.down_since is not None:
            health.succeeded(time.monotonic())
        numbers = [int(x) for x in reply.result()]
        counts = tuple((numbers[1 + 2 * i], numbers[2 + 2 * i]) for i in range(len(counters)))
        return Hit(numbers[0] == 1, counts)


async def aclose() -> None:
    """Closes this event loop's connections (the gateway's shutdown, and tests)."""
    for backend in _backends.pop(asyncio.get_running_loop(), {}).values():
        await backend.aclose()
