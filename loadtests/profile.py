"""The gateway's hot path under load, sampled with py-spy: where the CPU time of a request goes.

    python -m loadtests.profile [--target 4] [--seconds 15] [--no-write]

Starts the bench's stack for one target (loadtests/stack.py; 4 = the full plugin chain), drives it
with wrk at 32 connections and records the gateway process with `py-spy record --format raw`
(collapsed stacks; `--gil`: only the thread holding the interpreter, so a thread waiting on I/O, such
as metering's flusher during a commit, does not count as busy). The samples are summed per function:
*self* is time in the function's own code, *total* includes what it calls. Prints the top functions
and writes them to docs/benchmarks.md (between `<!-- profile:start -->` and `<!-- profile:end -->`);
the collapsed stacks stay in var/bench/ (a flame graph: `py-spy record --format flamegraph` the same way).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import wrk
from .machine import pinning
from .report import replace_section
from .servers import REPO, ensure_tools
from .stack import LABELS, bench_stack

__all__ = ["Profile", "area_of", "main", "parse_collapsed"]

DOC = REPO / "docs" / "benchmarks.md"
RESULTS = REPO / "var" / "bench"
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Where a file belongs, by the first of these fragments its path contains.
AREAS = (
    ("/gateway/engine/upstream", "engine: upstream client"),
    ("/gateway/engine/", "engine: HTTP server"),
    ("/gateway/pipeline/", "gateway pipeline"),
    ("/gateway/", "gateway (PDK, routing, headers, metrics)"),
    ("/plugins/", "plugins"),
    ("/registry/", "registry"),
    ("/httptools/", "httptools (llhttp)"),
    ("/redis/", "redis-py"),
    ("/sqlalchemy/", "sqlalchemy (metering's flusher)"),
    ("/asyncio/", "asyncio"),
    ("/prometheus_client/", "prometheus-client"),
)


def area_of(file: str) -> str:
    rooted = "/" + file  # py-spy writes paths relative to sys.path entries: `gateway/engine/server.py`
    for fragment, area in AREAS:
        if fragment in rooted:
            return area
    return "python stdlib and others"


@dataclass(frozen=True, slots=True)
class Profile:
    samples: int
    self_time: Counter[str]  # function -> samples where it was the innermost frame
    total_time: Counter[str]  # function -> samples where it was anywhere on the stack
    areas: Counter[str]  # area of the innermost frame -> samples


def _frame_name(frame: str) -> tuple[str, str]:
    """`access (/work/main/plugins/key_auth/handler.py:84)` -> ("key_auth/handler.py:access", file)."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    file = match.group("file")
    short = "/".join(Path(file).parts[-2:]) if file else "?"
    return f"{short}:{match.group('function')}", file


def parse_collapsed(lines: Iterable[str]) -> Profile:
    """py-spy's raw format: `frame;frame;...;innermost count` per line, outermost first."""
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    samples = 0
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        samples += count
        name, file = frames[-1]
        self_time[name] += count
        areas[area_of(file)] += count
        for seen in {n for n, _ in frames}:
            total_time[seen] += count
    return Profile(samples, self_time, total_time, areas)


def _table(title: str, counts: Counter[str], samples: int, top: int, keep: Sequence[str] = ()) -> list[str]:
    rows = [(n, c) for n, c in counts.most_common() if not keep or any(k in n for k in keep)][:top]
    out = [f"| {title} | share of samples |", "| --- | ---: |"]
    out += [f"| `{name}` | {count / samples:.1%} |" for name, count in rows]
    return out


def markdown(profile: Profile, settings: dict[str, str]) -> str:
    samples = max(profile.samples, 1)
    out = [
        f"Run {settings['when']}: {settings['how']}; {profile.samples:,} samples of the thread "
        "holding the GIL (idle excluded).",
        "",
        "Where the time goes (innermost frame's area):",
        "",
        "| area | share |",
        "| --- | ---: |",
    ]
    out += [f"| {area} | {count / samples:.1%} |" for area, count in profile.areas.most_common()]
    out += ["", "Top functions by self time:", ""]
    out += _table("function (self)", profile.self_time, samples, 20)
    out += ["", "Agora's own functions by total time (including what they call):", ""]
    out += _table("function (total)", profile.total_time, samples, 25, keep=_OURS_PATHS)
    return "\n".join(out)


# Function names keep the last folder of their file: these are Agora's (gateway/ and the plugins).
_OURS_PATHS = ("gateway/", "key_auth/", "access_control/", "rate_limiting/", "usage_metering/", "policies/",
               "backends/")  # fmt: skip


def _py_spy() -> str:
    """py-spy of this virtualenv (`make env` installs it with the dev extra), else the PATH's."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def record(pid: int, seconds: int, output: Path, cpus: Sequence[int], rate: int = 250) -> None:
    args = [_py_spy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
            "--format", "raw", "--function", "--gil", "--nonblocking", "--output", str(output)]  # fmt: skip
    if cpus:
        args = ["taskset", "-c", ",".join(map(str, cpus)), *args]
    subprocess.run(args, check=True, capture_output=True, timeout=seconds + 60)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=4, choices=(3, 4, 5), help="which gateway (default 4)")
    parser.add_argument("--seconds", type=int, default=15, help="how long to sample (default 15)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    ensure_tools()
    server_cpus, load_cpus = pinning()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"profile-{args.target}-{stamp}.txt"
    with bench_stack([args.target], server_cpus, load_cpus) as stack:
        target = stack.targets[args.target]
        wrk.run(target.url, connections=args.connections, seconds=2, headers=target.headers, cpus=load_cpus)
        load = threading.Thread(
            target=wrk.run,
            args=(target.url,),
            kwargs={
                "connections": args.connections,
                "seconds": args.seconds + 3,
                "headers": target.headers,
                "cpus": load_cpus,
            },
            daemon=True,
        )
        load.start()
        record(target.server.process.pid, args.seconds, output, load_cpus)
        load.join()
    profile = parse_collapsed(output.read_text().splitlines())
    settings = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "how": f"`python -m loadtests.profile` (target {args.target}: {LABELS[args.target]}; "
        f"wrk -c{args.connections}; py-spy at 250 Hz for {args.seconds} s)",
    }
    text = markdown(profile, settings)
    print(text)
    print(f"\ncollapsed stacks: {output.relative_to(REPO)}")
    if not args.no_write:
        replace_section(DOC, "profile", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
