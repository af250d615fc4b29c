"""Steady load while a fault is injected: a few client threads call their URLs in a loop (each on
its keep-alive connection, reconnecting after an error) until stopped, and never longer than `limit`
seconds, keeping every outcome with the time it was seen."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

__all__ = ["Load", "Outcome", "load"]


@dataclass(frozen=True)
class Outcome:
    at: float  # time.monotonic() when the answer (or the error) came
    target: str
    status: int | None  # None: no HTTP answer (connection refused or broken)
    error: str = ""


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def of(self, target: str, start: float = 0.0, end: float = float("inf")) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.target == target and start <= o.at < end]

    def statuses(self, target: str, start: float = 0.0, end: float = float("inf")) -> Counter[int | None]:
        return Counter(o.status for o in self.of(target, start, end))


@contextmanager
def load(
    targets: Mapping[str, tuple[str, dict[str, str]]],
    *,
    threads_per_target: int = 2,
    limit: float = 60.0,
    timeout: float = 5.0,
) -> Iterator[Load]:
    """`targets`: name -> (URL, headers)."""
    result = Load()
    stop = threading.Event()
    began = time.monotonic()

    def worker(name: str, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(headers=headers, timeout=timeout) as client:  # keep-alive, as real clients
            while not stop.is_set() and time.monotonic() - began < limit:
                try:
                    status = client.get(url).status_code
                    result.add(Outcome(time.monotonic(), name, status))
                except httpx.HTTPError as exc:
                    result.add(Outcome(time.monotonic(), name, None, type(exc).__name__))
                    time.sleep(0.05)

    threads = [
        threading.Thread(target=worker, args=(name, url, headers), daemon=True)
        for name, (url, headers) in targets.items()
        for _ in range(threads_per_target)
    ]
    for thread in threads:
        thread.start()
    try:
        yield result
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout + 2)
