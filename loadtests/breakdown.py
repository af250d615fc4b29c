"""Where the plugin chain's cost goes: the bench's gateway with its chain built up one plugin at a time.

    python -m loadtests.breakdown [--rounds 3] [--seconds 4]

Each step is its own gateway process (pinned like the bench's); wrk at 32 connections drives the steps
in turn, round after round, and the server's CPU time per answer is read from /proc. The difference
between a step and the one before it is what that plugin adds to a request (its access and log phases,
and what it changes downstream: the headers key-auth adds upstream, metering's flusher thread).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from .bench import measure
from .fixtures import BENCH_PATH
from .machine import pinning
from .servers import ensure_tools
from .stack import Target, bench_stack

__all__ = ["STEPS", "main"]

STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("no plugins", ()),
    ("+ key-auth", ("key-auth",)),
    ("+ access-control", ("key-auth", "access-control")),
    ("+ rate-limiting (local)", ("key-auth", "access-control", "rate-limiting")),
    ("+ usage-metering", ("key-auth", "access-control", "rate-limiting", "usage-metering")),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.breakdown", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    ensure_tools()
    server_cpus, load_cpus = pinning()
    with bench_stack([], server_cpus, load_cpus) as stack:
        targets = []
        for n, (label, only) in enumerate(STEPS):
            server = stack.gateway(f"step-{n}", plugins=True, only=only)
            targets.append(
                Target(4, label, server.url + BENCH_PATH, server, (stack.origin,), stack.key_header)
            )
        for target in targets:
            measure(target, connections=args.connections, seconds=1, cpus=load_cpus)
        cpu: dict[str, list[float]] = {t.label: [] for t in targets}
        for _ in range(args.rounds):
            for target in targets:
                sample = measure(target, connections=args.connections, seconds=args.seconds, cpus=load_cpus)
                cpu[target.label].append(sample.server_us_per_request)
    print(f"{'step':26} {'CPU us/req':>10} {'added':>7}")
    before = None
    for label, values in cpu.items():
        median = statistics.median(values)
        added = "" if before is None else f"{median - before:+7.0f}"
        print(f"{label:26} {median:10.0f} {added:>7}")
        before = median
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
