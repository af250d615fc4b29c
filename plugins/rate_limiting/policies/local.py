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

    def _get(self, key: str | None, now: float) -> int:
        if key is None:
            return 0
        expires = self._expires.get(key)
        if expires is None or expires <= now:
            return 0
        return self._counts[key]

    async def hit(self, counters: Sequence[Counter]) -> Hit:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        get = self._get
        counts = tuple((get(c.key, now), get(c.previous_key, now)) for c in counters)
        for c, (current, previous) in zip(counters, counts, strict=True):
            if not allows(c.limit, current, previous, c.weight):
                return Hit(False, counts)
        stored, expires = self._counts, self._expires
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
