"""Route-table benchmark: lookup time must stay flat as the registry grows.

    python -m loadtests.routes_cost [--samples 301] [--batch 500]

Registers 10, 1,000 and 10,000 operations (10 per API version, half of them templated), times
batches of lookups over request paths spread across the whole table and prints the median time
per lookup and the ratio of the medians (10,000 vs 10), which the issue requires to stay under 2.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from gateway.config.model import parse_snapshot
from gateway.pipeline.routes import RouteTable

__all__ = ["build_snapshot", "measure", "run"]

SIZES = (10, 1_000, 10_000)
_SHAPES = (
    ("GET", "/items", "/items"),
    ("POST", "/items", "/items"),
    ("GET", "/items/{id}", "/items/42"),
    ("PUT", "/items/{id}", "/items/42"),
    ("DELETE", "/items/{id}", "/items/42"),
    ("GET", "/items/{id}/parts", "/items/42/parts"),
    ("GET", "/items/{id}/parts/{part}", "/items/42/parts/7"),
    ("GET", "/search", "/search"),
    ("GET", "/files/{name}.{ext}", "/files/report.pdf"),
    ("GET", "/status", "/status"),
)


def build_snapshot(operations: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A snapshot with `operations` routes and one request (method, path) per route."""
    services: list[dict[str, Any]] = []
    requests: list[tuple[str, str]] = []
    for n in range(max(1, operations // len(_SHAPES))):
        prefix = f"/agency{n % 97}/api{n}/v1"
        routes = [{"method": m, "path": p, "operation_id": f"op{i}"} for i, (m, p, _) in enumerate(_SHAPES)]
        services.append(
            {"name": f"s{n}", "prefix": prefix, "upstream": "http://127.0.0.1:1", "routes": routes}
        )
        requests.extend((m, prefix + example) for m, _, example in _SHAPES)
    return {"format": 1, "id": f"bench-{operations}", "services": services}, requests


def _prepare(operations: int, batch: int, seed: int) -> tuple[RouteTable, list[tuple[str, str]]]:
    doc, requests = build_snapshot(operations)
    table = RouteTable(parse_snapshot(doc).services)
    rng = random.Random(seed)
    picks = [rng.choice(requests) for _ in range(batch)]
    for method, path in picks:  # warm-up, and a check that every pick routes
        match = table.lookup(method, path)
        assert match is not None and match.route is not None, (method, path)
    return table, picks


def _time_batch(table: RouteTable, picks: list[tuple[str, str]]) -> float:
    lookup, clock = table.lookup, time.perf_counter_ns
    start = clock()
    for method, path in picks:
        lookup(method, path)
    return (clock() - start) / len(picks)


def measure(sizes: tuple[int, ...] = SIZES, *, samples: int, batch: int, seed: int = 7) -> dict[int, float]:
    """Median nanoseconds per lookup for each size.

    Sizes are timed in turn within each sample, so a noisy neighbour on the machine slows all of
    them alike instead of skewing the ratio. Each timed batch follows an untimed pass over the same
    picks: the figure is the lookup cost of a gateway serving that traffic, not of a CPU cache that
    the previous size's batch has just filled with its own table (which would penalise the larger
    tables for the benchmark's own interleaving, and more so when other processes share the cache).
    """
    prepared = {size: _prepare(size, batch, seed) for size in sizes}
    timings: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(samples):
        for size, (table, picks) in prepared.items():
            _time_batch(table, picks)
            timings[size].append(_time_batch(table, picks))
    return {size: statistics.median(values) for size, values in timings.items()}


def run(samples: int = 301, batch: int = 500) -> dict[int, float]:
    return measure(SIZES, samples=samples, batch=batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=301)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    medians = run(args.samples, args.batch)
    for size, ns in medians.items():
        print(f"{size:>6} operations: median {ns / 1000:.2f} us per lookup")
    print(f"ratio 10000 vs 10: {medians[10_000] / medians[10]:.2f} (must stay under 2)")


if __name__ == "__main__":
    main()
