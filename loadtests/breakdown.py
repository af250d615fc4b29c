"""Where the plugin chain's cost goes: the bench's gateway with its chain built up one plugin at a time.

    python -m loadtests.breakdown [--rounds 5] [--seconds 4] [--connections 16]

Each step is its own gateway process, all pinned to the server core, and **all steps are loaded at the
same time**: one wrk per step, on the load core, for the same seconds. The server's CPU time per answer
is read from /proc for each step. Run one after the other, the steps measured this machine's drift as
much as the plugins (its speed moves by up to 30% within minutes: one such run gave access-control
-33 us); run together, every step meets the same moment, so a step's cost relative to the no-plugin
gateway holds still even while the absolute figures move. Each step's figure is the median over the
rounds of that ratio; `added` converts it to microseconds at the no-plugin gateway's median cost, and
`bare/step` is the throughput ratio a saturated core would give (the bench's 4/3 for the last step).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .fixtures import BENCH_PATH
from .machine import pinning
from .servers import ensure_tools
from .stack import bench_stack
from .together import Loaded, load_together

__all__ = ["STEPS", "Step", "main", "summarize"]

STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("no plugins", ()),
    ("+ key-auth", ("key-auth",)),
    ("+ access-control", ("key-auth", "access-control")),
    ("+ rate-limiting (local)", ("key-auth", "access-control", "rate-limiting")),
    ("+ usage-metering", ("key-auth", "access-control", "rate-limiting", "usage-metering")),
)


@dataclass(frozen=True)
class Step:
    label: str
    us_per_request: float  # median over the rounds
    relative: float  # median over the rounds of (this step's cost / the first step's), same round
    added_us: float  # what it adds to the step before it, at the first step's median cost

    @property
    def throughput_share(self) -> float:
        """The first step's cost over this one's: its requests per second as a share of the first's."""
        return 1 / self.relative


def summarize(costs: dict[str, list[float]]) -> list[Step]:
    """`costs`: per step (in order, the first the baseline), its CPU us per request round by round."""
    labels = list(costs)
    base = costs[labels[0]]
    base_median = statistics.median(base)
    steps: list[Step] = []
    previous = 1.0
    for label in labels:
        relative = statistics.median(c / b for c, b in zip(costs[label], base, strict=True))
        added = (relative - previous) * base_median
        steps.append(Step(label, statistics.median(costs[label]), relative, added))
        previous = relative
    return steps


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.breakdown", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16, help="per step (default 16)")
    args = parser.parse_args(argv)
    ensure_tools()
    server_cpus, load_cpus = pinning()
    with bench_stack([], server_cpus, load_cpus) as stack:
        targets: dict[str, Loaded] = {}
        for n, (label, only) in enumerate(STEPS):
            server = stack.gateway(f"step-{n}", plugins=True, only=only)
            targets[label] = Loaded(server, server.url + BENCH_PATH, stack.key_header)
        load_together(targets, connections=args.connections, seconds=1, cpus=load_cpus)  # warm-up
        costs: dict[str, list[float]] = {label: [] for label, _ in STEPS}
        for number in range(args.rounds):
            measured = load_together(
                targets, connections=args.connections, seconds=args.seconds, cpus=load_cpus
            )
            for label, value in measured.items():
                costs[label].append(value)
            print(f"round {number + 1}: " + ", ".join(f"{v:.0f}" for v in measured.values()) + " us/req")
    print(f"\n{'step':26} {'CPU us/req':>10} {'x bare':>7} {'added':>7} {'bare/step':>9}")
    for step in summarize(costs):
        added = "" if step.label == STEPS[0][0] else f"{step.added_us:+7.0f}"
        print(f"{step.label:26} {step.us_per_request:10.0f} {step.relative:7.3f} {added:>7} "
              f"{step.throughput_share:9.1%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
