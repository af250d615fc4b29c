"""Several servers loaded at the same moment, one wrk each: their CPU cost per answer, side by side.

This machine's speed drifts by up to 30% within minutes of sustained load. Targets measured one after
the other compare two moments as much as two servers; servers pinned to the same core and loaded
together meet the same moment, so the ratio of their CPU time per answer holds still while the
absolute figures move (seen here: four rounds of a ratio within 3 points while the bare gateway's cost
moved from 488 to 710 us). A saturated core answers in inverse proportion to that cost, so the ratio
estimates the ratio of their requests per second had each had the core alone, with one bias: processes
sharing a core share its caches, and the one with the larger working set loses more to each switch (the
bare gateway against the minimal forwarder: 87% alternating, 66% together), so it reads low for the
larger server.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from . import wrk
from .servers import Server

__all__ = ["Loaded", "load_together"]

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Loaded:
    """A server to load: where wrk sends its requests, with which headers."""

    server: Server
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


def load_together(
    targets: Mapping[Key, Loaded], *, connections: int, seconds: float, cpus: Sequence[int]
) -> dict[Key, float]:
    """Every target under its own wrk for the same seconds; each server's CPU us per answer."""
    results: dict[Key, wrk.WrkResult] = {}
    errors: list[BaseException] = []
    before = {name: t.server.cpu_seconds() for name, t in targets.items()}

    def load(name: Key, target: Loaded) -> None:
        try:
            results[name] = wrk.run(target.url, connections=connections, seconds=seconds,
                                    headers=target.headers, cpus=cpus)  # fmt: skip
        except BaseException as exc:  # raised by the caller once every thread has ended
            errors.append(exc)

    threads = [threading.Thread(target=load, args=item) for item in targets.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    out: dict[Key, float] = {}
    for name, target in targets.items():
        result = results[name]
        if not result.requests or result.failed > result.requests / 1000:
            raise RuntimeError(
                f"{name}: {result.failed} failed answers of {result.requests}; see {target.server.log}"
            )
        out[name] = (target.server.cpu_seconds() - before[name]) / result.requests * 1e6
    return out
