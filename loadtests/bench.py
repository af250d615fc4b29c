"""`make bench`: the gateway's cost per request against its yardsticks, in one run on this machine.

    python -m loadtests.bench [--seconds 5] [--repeats 3] [--connections 32] [--no-write]

wrk at fixed concurrency (and at 1 connection for latency) against the five targets of
loadtests/stack.py, alternating targets and repeating each; then the ratios 4/3 and 5/4 a second way,
the two servers of each pair loaded at the same moment (loadtests/together.py: steady under this
machine's drift, though it reads the larger server low); then the full plugin chain with 1 and 2
gateway workers. Prints the table and the ratios, and writes them to docs/benchmarks.md (the section
between `<!-- bench:start -->` and `<!-- bench:end -->`) and var/bench/ (every run, as JSON).
Servers run on the first core and wrk on the others when there are two or more cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from . import wrk
from .fixtures import BENCH_PATH
from .machine import describe, load_average, pinning
from .report import Row, Sample, goals, markdown, ratios, render_console, replace_section, summarize
from .servers import REPO, Server, ensure_tools, free_port, origin_config
from .stack import BenchStack, Target, bench_stack
from .together import Loaded, load_together

__all__ = ["main", "measure"]

DOC = REPO / "docs" / "benchmarks.md"
RESULTS = REPO / "var" / "bench"
QUIET_LOAD = 0.5  # above this load average, figures from a shared machine are noise


class BenchFailed(RuntimeError):
    pass


def measure(
    target: Target, *, connections: int, seconds: float, cpus: Sequence[int], server: Server | None = None
) -> Sample:
    """One wrk run against `target`, with the CPU time its server and the load side used meanwhile."""
    server = server or target.server
    server_before = server.cpu_seconds()
    load_before = sum(p.cpu_seconds() for p in target.load)
    result = wrk.run(target.url, connections=connections, seconds=seconds, headers=target.headers, cpus=cpus)
    server_cpu = server.cpu_seconds() - server_before
    load_cpu = sum(p.cpu_seconds() for p in target.load) - load_before + result.cpu_seconds
    if result.failed > result.requests / 1000:
        raise BenchFailed(
            f"{target.label}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket errors "
            f"in {result.requests} requests; see {server.log}"
        )
    return Sample(result, server_cpu, load_cpu)


def round_order(items: list[Target], repeat: int) -> list[Target]:
    """Forward in even rounds, backward in odd ones (1-5, 5-1, ...): the targets a ratio compares (2 and 3,
    3 and 4, 4 and 5) are always measured one after the other, and a drift of the machine's speed over the
    run, which the rounds' own ratios would otherwise catch at its worst between a round's first and last
    target, is met from both sides in turn."""
    return list(items) if repeat % 2 == 0 else list(reversed(items))


def run_matrix(
    stack: BenchStack, args: argparse.Namespace
) -> tuple[list[Row], dict[int, list[float]], list[dict[str, object]]]:
    """The table's rows, each target's requests per second round by round, and every run's figures."""
    targets = [stack.targets[n] for n in sorted(stack.targets)]
    loaded: dict[int, list[Sample]] = {t.number: [] for t in targets}
    single: dict[int, list[Sample]] = {t.number: [] for t in targets}
    raw: list[dict[str, object]] = []
    cpus = stack.load_cpus
    for target in targets:  # warm-up: connection pools, caches, counters
        measure(target, connections=args.connections, seconds=1, cpus=cpus)
    for repeat in range(args.repeats):
        for target in round_order(targets, repeat):
            for connections, store, seconds in (
                (args.connections, loaded, args.seconds),
                (1, single, args.single_seconds),
            ):
                sample = measure(target, connections=connections, seconds=seconds, cpus=cpus)
                store[target.number].append(sample)
                raw.append({"target": target.number, "connections": connections, "repeat": repeat,
                            **asdict(sample.wrk), "server_cpu": sample.server_cpu,
                            "load_cpu": sample.load_cpu})  # fmt: skip
                print(
                    f"  {target.number}. c={connections:<3} {sample.wrk.rps:9,.0f} req/s  "
                    f"p50 {sample.wrk.p50_ms:6.2f} ms  p99 {sample.wrk.p99_ms:6.2f} ms  "
                    f"server {sample.server_share:4.0%}  load side {sample.load_share:4.0%}",
                    flush=True,
                )
    rows = [summarize(t.number, t.label, loaded[t.number], single[t.number]) for t in targets]
    return rows, {n: [s.wrk.rps for s in samples] for n, samples in loaded.items()}, raw


# The ratios between Agora's own targets, measured a second way: both servers of a pair loaded at the
# same moment (loadtests/together.py): steady under this machine's drift, biased against the larger process.
TOGETHER = ((4, 3), (5, 4))


def run_together(stack: BenchStack, args: argparse.Namespace) -> dict[str, float]:
    """For each pair (a, b) both present, the median over the rounds of cost(b) / cost(a): a's requests
    per second as a share of b's, had each the server core alone."""
    out: dict[str, float] = {}
    for a, b in TOGETHER:
        if a not in stack.targets or b not in stack.targets:
            continue
        pair = {
            n: Loaded(stack.targets[n].server, stack.targets[n].url, stack.targets[n].headers) for n in (a, b)
        }
        shares = []
        for _ in range(args.repeats):
            cost = load_together(pair, connections=args.connections // 2, seconds=args.seconds,
                                 cpus=stack.load_cpus)  # fmt: skip
            shares.append(cost[b] / cost[a])
            print(f"  {a} and {b} together: {cost[a]:.0f} and {cost[b]:.0f} us/req, {a}/{b} {shares[-1]:.1%}",
                  flush=True)  # fmt: skip
        out[f"{a}/{b} together"] = statistics.median(shares)
    return out


def run_scaling(stack: BenchStack, args: argparse.Namespace) -> list[Row]:
    """The full plugin chain with 1 and 2 workers, nothing pinned (the workers need every core), wrk
    and an upstream of their own sharing the cores with them."""
    port = free_port()
    origin = stack.nginx("origin-unpinned", origin_config(port), port, ())
    gateways = {
        workers: stack.gateway(f"gateway-{workers}w", plugins=True, workers=workers, cpus=(), origin=origin)
        for workers in (1, 2)
    }
    samples: dict[int, list[Sample]] = {1: [], 2: []}
    targets = {
        w: Target(4, f"{w} worker{'s' if w > 1 else ''}", g.url + BENCH_PATH, g, (origin,), stack.key_header)
        for w, g in gateways.items()
    }
    for target in targets.values():
        measure(target, connections=args.connections, seconds=1, cpus=())
    for repeat in range(args.repeats):
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            sample = measure(targets[workers], connections=args.connections, seconds=args.seconds, cpus=())
            samples[workers].append(sample)
            print(
                f"  {workers} worker(s) c={args.connections} {sample.wrk.rps:9,.0f} req/s  "
                f"gateway {sample.server_share:4.0%}  wrk {sample.wrk_share:4.0%}",
                flush=True,
            )
    return [summarize(4, targets[w].label, samples[w]) for w in (1, 2)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="each run at --connections (default 4)")
    parser.add_argument("--single-seconds", type=int, default=3.0, help="each run at 1 connection (3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's connections (default 32)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per target (default 5)")
    parser.add_argument("--targets", default="1,2,3,4,5", help="which targets (default all: 1,2,3,4,5)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1 vs 2 workers runs")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {DOC.relative_to(REPO)}")
    args = parser.parse_args(argv)
    numbers = sorted({int(n) for n in args.targets.split(",")})

    ensure_tools()
    started, load_before = time.monotonic(), load_average()
    if load_before > QUIET_LOAD:
        print(f"warning: load average {load_before:.2f} (> {QUIET_LOAD}): figures will be noisy", flush=True)
    server_cpus, load_cpus = pinning()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"bench: servers on cores {server_cpus or 'any'}, wrk on {load_cpus or 'any'}", flush=True)
    with bench_stack(numbers, server_cpus, load_cpus) as stack:
        rows, rounds, raw = run_matrix(stack, args)
        together = run_together(stack, args)
        scaling = [] if args.no_scaling or 4 not in stack.targets else run_scaling(stack, args)
    load_after = load_average()
    found = ratios({r.number: r for r in rows}, rounds) | together

    print()
    print(render_console(rows))
    print()
    for name, value in found.items():
        print(f"  {name:14} {value:.3f}" if name.endswith("ms") else f"  {name:14} {value:.1%}")
    for goal in goals(found):
        print(f"  [{'met' if goal.met else 'NOT MET'}] {goal.text}: {goal.value}")
    for row in scaling:
        print(f"  plugins, {row.label}: {row.rps:,.0f} req/s (gateway CPU {row.server_cpu:.0%}, "
              f"wrk CPU {row.wrk_cpu:.0%})")  # fmt: skip
    elapsed = time.monotonic() - started
    print(f"bench took {elapsed:.0f} s; load average {load_before:.2f} at start, {load_after:.2f} at end")

    machine = describe()
    settings = {
        "when": when,
        "duration": f"{elapsed:.0f} s",
        "load_before": f"{load_before:.2f}",
        "load_after": f"{load_after:.2f}",
        "scaling": f"nothing pinned; wrk -t1 -c{args.connections}, {args.repeats} x {args.seconds:g} s",
        "load generator": f"wrk -t1 -c{args.connections} for {args.seconds:g} s and -c1 for "
        f"{args.single_seconds:g} s, {args.repeats} alternating runs per target, medians; "
        "ratios: the median of the rounds' own ratios",
        "pinning": f"servers on core(s) {','.join(map(str, server_cpus)) or 'any'}, wrk, the upstream of "
        f"targets 2-5 and Redis on core(s) {','.join(map(str, load_cpus)) or 'any'}",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"bench-{stamp}.json").write_text(
        json.dumps({"machine": machine, "settings": settings, "ratios": found, "runs": raw,
                    "rows": [asdict(r) for r in rows], "scaling": [asdict(r) for r in scaling]}, indent=1)
    )  # fmt: skip
    if not args.no_write:
        replace_section(DOC, "bench", markdown(rows, found, scaling, machine, settings))
        print(f"wrote {DOC.relative_to(REPO)} and var/bench/bench-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
