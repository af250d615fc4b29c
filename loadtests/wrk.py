"""wrk (Debian's package) as the load generator: one run, its output parsed, its own CPU time measured.

`parse` reads wrk's report with `--latency`:

      Latency Distribution
         50%  412.00us
         99%    1.93ms
      16023 requests in 5.00s, 2.01MB read
      Non-2xx or 3xx responses: 3
      Socket errors: connect 0, read 1, write 0, timeout 0
    Requests/sec:   3204.55
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

__all__ = ["WrkResult", "parse", "parse_duration", "run"]

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: int = 0
    cpu_seconds: float = 0.0  # wrk's own user + system time

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors


def parse_duration(value: str, unit: str) -> float:
    """wrk's `412.00us` -> milliseconds."""
    return float(value) * _UNITS[unit]


def parse(text: str) -> WrkResult:
    """wrk's report -> figures; ValueError when it has none (wrk failed, or ran without --latency)."""
    percentiles = {float(p): parse_duration(v, u) for p, v, u in _PERCENTILE.findall(text)}
    total, rate = _TOTAL.search(text), _RATE.search(text)
    if total is None or rate is None or 50.0 not in percentiles or 99.0 not in percentiles:
        raise ValueError(f"not a wrk --latency report:\n{text}")
    non_2xx = _NON_2XX.search(text)
    socket = _SOCKET.search(text)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration(total.group(2), total.group(3)) / 1000,
        rps=float(rate.group(1)),
        p50_ms=percentiles[50.0],
        p99_ms=percentiles[99.0],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
    )


def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    headers: Mapping[str, str] | None = None,
    cpus: Sequence[int] = (),
) -> WrkResult:
    """One wrk run, pinned to `cpus` when given; bounded by `seconds` (plus wrk's 2 s timeout)."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "2s",
    ]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    args.append(url)
    if cpus:
        args = ["taskset", "-c", ",".join(map(str, cpus)), *args]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()  # the report is small: reading it all, then reaping, cannot block
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}:\n{output}")
    return replace(parse(output), cpu_seconds=usage.ru_utime + usage.ru_stime)
