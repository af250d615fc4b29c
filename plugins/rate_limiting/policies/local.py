"""The `local` policy: counters in this process's memory.

A `hit` runs without awaiting anything, so on the event loop it is atomic: no other request can
read a counter between its check and its increment. Each worker process counts alone (with N
workers a client may get up to N times the limit); use Redis to share counters. Counters expire
with their window; expired ones are swept every few seconds, so memory follows the number of
clients active in the longest window, not the total ever seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..windows import allows
from . import Counter, Hit

__all__ = ["LOCAL", "LocalPolicy"]

_SWEEP_EVERY = 5.0


class LocalPolicy:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expires: dict[str, float] = {}
        self._next_sweep = clock() + _SWEEP_EVERY

    def __len__(self) -> int:
        return len(self._counts)

    async def hit(self, counters: Sequence[Counter]) -> Hit:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        stored, expires = self._counts, self._expires
        counts: list[tuple[int, int]] = []
        allowed = True
        for c in counters:  # plain loops: this runs on every call of every limited API
            until = expires.get(c.key)
            current = stored[c.key] if until is not None and until > now else 0
            previous = 0
            if c.previous_key is not None:
                until = expires.get(c.previous_key)
                previous = stored[c.previous_key] if until is not None and until > now else 0
            counts.append((current, previous))
            if allowed and not allows(c.limit, current, previous, c.weight):
                allowed = False
        if not allowed:
            return Hit(False, tuple(counts))
        for c, (current, _) in zip(counters, counts, strict=True):
            if current == 0:  # new, or expired: it starts over with its own lifetime
                expires[c.key] = now + c.ttl
            stored[c.key] = current + 1
        return Hit(True, tuple((current + 1, previous) for current, previous in counts))

    def _sweep(self, now: float) -> None:
        expired = [key for key, expires in self._expires.items() if expires <= now]
        for key in expired:
            del self._expires[key], self._counts[key]
        self._next_sweep = now + _SWEEP_EVERY


# One per process, shared by every plugin instance: a hot reload builds new instances, and the
# counts of the windows in progress must survive it.
LOCAL = LocalPolicy()
