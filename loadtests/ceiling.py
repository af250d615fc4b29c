"""How far a Python gateway can go here: two bare Python forwarders against nginx `proxy_pass` and
Agora's gateway, bare and with its plugin chain, in one run.

    python -m loadtests.ceiling [--rounds 5] [--seconds 4]

- loadtests/forwarder.py: raw ASGI on uvicorn with one aiohttp session, the stack the benchmarks issue
  measured at about 14% of nginx (the gateway's first data plane was built on it);
- loadtests/rawforwarder.py: uvloop's protocols and httptools with callbacks only, the prototype the
  data-plane issue measured at 44%: the floor of a Python proxy on this event loop and parser. What
  separates Agora's bare gateway from it is Agora's own Python per request, not the stack.

Targets alternate round by round (forward, then backward), as in `make bench`; the gateway's targets
are also measured against the uvicorn forwarder together (loadtests/together.py: steady under the
drift, but biased against the larger process, which loses more of its caches to each switch).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from .bench import measure, round_order
from .fixtures import BENCH_PATH
from .machine import pinning
from .servers import ensure_tools, free_port, start_forwarder
from .stack import BenchStack, Target, bench_stack
from .together import Loaded, load_together

__all__ = ["main"]

FORWARDER = 0  # its target number: it sits below Agora's bare gateway (3)
RAW = 1  # the raw-protocol forwarder's


def forwarder_target(stack: BenchStack, module: str = "forwarder") -> Target:
    """A forwarder pinned like the gateways, in front of the stack's upstream; stopped with the stack."""
    server = start_forwarder(free_port(), stack.origin.url, stack.directory, stack.server_cpus, BENCH_PATH,
                             module)  # fmt: skip
    number, label = (
        (FORWARDER, "bare Python forwarder (uvicorn + aiohttp)")
        if module == "forwarder"
        else (RAW, "raw-protocol forwarder (uvloop + httptools)")
    )
    stack.servers.append(server)
    return Target(number, label, server.url + BENCH_PATH, server, (stack.origin,))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.ceiling", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    ensure_tools()
    server_cpus, load_cpus = pinning()
    with bench_stack([2, 3, 4], server_cpus, load_cpus) as stack:
        forwarder, raw = forwarder_target(stack), forwarder_target(stack, "rawforwarder")
        targets = [stack.targets[2], forwarder, raw, stack.targets[3], stack.targets[4]]
        for target in targets:  # warm-up
            measure(target, connections=args.connections, seconds=1, cpus=load_cpus)
        rps: dict[int, list[float]] = {t.number: [] for t in targets}
        for repeat in range(args.rounds):
            for target in round_order(targets, repeat):
                sample = measure(target, connections=args.connections, seconds=args.seconds, cpus=load_cpus)
                rps[target.number].append(sample.wrk.rps)
                print(f"  {target.label:45} {sample.wrk.rps:9,.0f} req/s", flush=True)
        together: dict[int, list[float]] = {3: [], 4: []}
        for number in (3, 4):
            gateway = stack.targets[number]
            pair = {
                FORWARDER: Loaded(forwarder.server, forwarder.url),
                number: Loaded(gateway.server, gateway.url, gateway.headers),
            }
            for _ in range(args.rounds):
                cost = load_together(pair, connections=args.connections // 2, seconds=args.seconds,
                                     cpus=load_cpus)  # fmt: skip
                together[number].append(cost[FORWARDER] / cost[number])

    def paired(a: int, b: int) -> str:
        return f"{statistics.median(x / y for x, y in zip(rps[a], rps[b], strict=True)):6.1%}"

    def both(number: int) -> str:
        return f"{paired(number, FORWARDER)}   together {statistics.median(together[number]):6.1%}"

    print()
    for target in targets:
        print(f"{target.label:45} {statistics.median(rps[target.number]):9,.0f} req/s (median)")
    print()
    print(f"forwarder / nginx proxy_pass   {paired(FORWARDER, 2)}   (the issue measured about 14%)")
    print(f"raw forwarder / nginx          {paired(RAW, 2)}   (the data-plane issue measured 44%)")
    print(f"bare gateway / raw forwarder   {paired(3, RAW)}")
    print(f"full chain / raw forwarder     {paired(4, RAW)}")
    print(f"bare gateway / forwarder       {both(3)}")
    print(f"full chain / forwarder         {both(4)}   (the issue's aim: within 15%, so 85%)")
    print(f"full chain / nginx proxy_pass  {paired(4, 2)}   (the goal: 12%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
