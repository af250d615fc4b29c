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
        # counter key -> [count, expires at]: one lookup per counter, changed in place when counted
        self._cells: dict[str, list[float]] = {}
        self._next_sweep = clock() + _SWEEP_EVERY

    def __len__(self) -> int:
        return len(self._cells)

    async def hit(self, counters: Sequence[Counter]) -> Hit:
        return self.check(counters)

    def check(self, counters: Sequence[Counter]) -> Hit:
        """`hit` without a coroutine: the plugin calls it directly (it awaits nothing)."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        cells = self._cells
        live: list[list[float] | None] = []
        counts: list[tuple[int, int]] = []
        allowed = True
        for c in counters:  # plain loops: this runs on every call of every limited API
            cell = cells.get(c.key)
            if cell is not None and cell[1] <= now:
                cell = None  # expired, not yet swept: it starts over
            current = int(cell[0]) if cell is not None else 0
            previous = 0
            if c.previous_key is not None:
                before = cells.get(c.previous_key)
                previous = int(before[0]) if before is not None and before[1] > now else 0
                if allowed and not allows(c.limit, current, previous, c.weight):
                    allowed = False
            elif current >= c.limit:  # allows() with no previous window
                allowed = False
            live.append(cell)
            counts.append((current, previous))
        if not allowed:
            return Hit(False, tuple(counts))
        for c, cell in zip(counters, live, strict=True):
            if cell is None:  # new, or expired: it starts over with its own lifetime
                cells[c.key] = [1, now + c.ttl]
            else:
                cell[0] += 1
        return Hit(True, tuple((current + 1, previous) for current, previous in counts))

    def _sweep(self, now: float) -> None:
        cells = self._cells
        for key in [key for key, cell in cells.items() if cell[1] <= now]:
            del cells[key]
        self._next_sweep = now + _SWEEP_EVERY


# One per process, shared by every plugin instance: a hot reload builds new instances, and the
# counts of the windows in progress must survive it.
LOCAL = LocalPolicy()
