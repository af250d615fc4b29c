"""The `local` policy: counters in this process's memory.

A `hit` runs without awaiting anything, so on the event loop it is atomic: no other request can
read a counter between its check and its increment. Counters expire with their window; expired ones
are swept every few seconds, so memory follows the number of clients active in the longest window,
not the total ever seen.

With several gateway workers (AGORA_GATEWAY_SHARED_COUNTERS set by `agora gateway --workers N`) the
counters live in the node's shared table instead (`shared.py`): the workers of one node count
together, same answers. Counters shared between nodes need Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..windows import allows
from . import Counter, Hit
from .shared import SharedCounters

__all__ = ["LOCAL", "LocalPolicy"]

_SWEEP_EVERY = 5.0


class LocalPolicy:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, shared: SharedCounters | None = None
    ) -> None:
        self._clock = clock
        self._shared = shared  # the node's table, when this process is one of several workers
        # counter key -> [count, expires at]: one lookup per counter, changed in place when counted
        self._cells: dict[str, list[int | float]] = {}
        self._next_sweep = clock() + _SWEEP_EVERY

    def __len__(self) -> int:
        return len(self._cells)

    async def hit(self, counters: Sequence[Counter]) -> Hit:
        return self.check(counters)

    def check(self, counters: Sequence[Counter]) -> Hit:
        """`hit` without a coroutine: the plugin calls it directly (it awaits nothing)."""
        now = self._clock()
        if self._shared is not None:
            return self._shared.check(counters, now)
        if now >= self._next_sweep:
            self._sweep(now)
        cells = self._cells
        # Plain loops over unpacked tuples: this runs on every call of every limited API.
        seen: list[tuple[list[int | float] | None, int, int]] = []  # (live cell, current, previous)
        allowed = True
        for key, previous_key, limit, weight, _ in counters:
            cell = cells.get(key)
            if cell is None or cell[1] <= now:  # none yet, or expired and not yet swept: starts over
                cell, current = None, 0
            else:
                current = int(cell[0])
            if previous_key is None:
                previous = 0
                if current >= limit:  # allows() without a previous window
                    allowed = False
            else:
                before = cells.get(previous_key)
                previous = int(before[0]) if before is not None and before[1] > now else 0
                if not allows(limit, current, previous, weight):
                    allowed = False
            seen.append((cell, current, previous))
        if not allowed:
            return Hit(False, tuple([(current, previous) for _, current, previous in seen]))
        counts: list[tuple[int, int]] = []
        for (cell, current, previous), counter in zip(seen, counters, strict=True):
            if cell is None:  # it starts with its own lifetime
                cells[counter.key] = [1, now + counter.ttl]
            else:
                cell[0] = current + 1
            counts.append((current + 1, previous))
        return Hit(True, tuple(counts))

    def _sweep(self, now: float) -> None:
        cells = self._cells
        for key in [key for key, cell in cells.items() if cell[1] <= now]:
            del cells[key]
        self._next_sweep = now + _SWEEP_EVERY


# One per process, shared by every plugin instance: a hot reload builds new instances, and the
# counts of the windows in progress must survive it.
LOCAL = LocalPolicy(shared=SharedCounters.from_environment())
