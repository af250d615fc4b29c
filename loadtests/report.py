"""The bench's figures -> a console table and the generated section of docs/benchmarks.md.

Each figure is the median of the repeated runs of one target (the runs alternate between targets, so
a disturbance of the machine hits them alike); the spread of requests per second is shown beside it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .wrk import WrkResult

__all__ = [
    "Goal",
    "Row",
    "Sample",
    "goals",
    "markdown",
    "ratios",
    "render_console",
    "replace_section",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class Sample:
    """One wrk run and the CPU the processes used meanwhile (seconds)."""

    wrk: WrkResult
    server_cpu: float
    load_cpu: float  # wrk, the upstream and Redis: everything on the load generator's side

    @property
    def server_share(self) -> float:
        return self.server_cpu / self.wrk.seconds

    @property
    def load_share(self) -> float:
        return self.load_cpu / self.wrk.seconds

    @property
    def wrk_share(self) -> float:
        return self.wrk.cpu_seconds / self.wrk.seconds

    @property
    def server_us_per_request(self) -> float:
        """The server's CPU time per answer: steadier than requests per second on a shared machine."""
        return self.server_cpu / max(self.wrk.requests, 1) * 1e6


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    label: str
    rps: float
    rps_low: float
    rps_high: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # share of one core
    load_cpu: float
    wrk_cpu: float
    cpu_us: float  # the server's CPU time per request, microseconds
    p50_1_ms: float | None = None  # at one connection
    p99_1_ms: float | None = None


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def summarize(number: int, label: str, loaded: Sequence[Sample], single: Sequence[Sample] = ()) -> Row:
    return Row(
        number=number,
        label=label,
        rps=_median([s.wrk.rps for s in loaded]),
        rps_low=min(s.wrk.rps for s in loaded),
        rps_high=max(s.wrk.rps for s in loaded),
        p50_ms=_median([s.wrk.p50_ms for s in loaded]),
        p99_ms=_median([s.wrk.p99_ms for s in loaded]),
        server_cpu=_median([s.server_share for s in loaded]),
        load_cpu=_median([s.load_share for s in loaded]),
        wrk_cpu=_median([s.wrk_share for s in loaded]),
        cpu_us=_median([s.server_us_per_request for s in loaded]),
        p50_1_ms=_median([s.wrk.p50_ms for s in single]) if single else None,
        p99_1_ms=_median([s.wrk.p99_ms for s in single]) if single else None,
    )


def ratios(rows: dict[int, Row], rounds: Mapping[int, Sequence[float]] | None = None) -> dict[str, float]:
    """The issue's ratios of requests per second, and the latency the plugin chain adds at 1 connection.

    With `rounds` (each target's requests per second, round by round), a ratio is the median of the
    rounds' own ratios: two targets measured in the same round are compared with each other, so a
    machine that slows down or speeds up over the run (seen here: -30% over a few minutes of sustained
    load, bare gateway included) moves both sides of each ratio alike. Without, medians are compared."""
    out: dict[str, float] = {}
    for a, b in ((3, 2), (4, 2), (5, 4), (4, 3)):
        if a not in rows or b not in rows:
            continue
        paired = rounds and rounds.get(a) and rounds.get(b) and len(rounds[a]) == len(rounds[b])
        if rounds is not None and paired:
            out[f"{a}/{b}"] = _median([x / y for x, y in zip(rounds[a], rounds[b], strict=True)])
        else:
            out[f"{a}/{b}"] = rows[a].rps / rows[b].rps
    nginx, chain = rows.get(2), rows.get(4)
    if nginx and chain and nginx.p50_1_ms is not None and chain.p50_1_ms is not None:
        out["added p50 ms"] = chain.p50_1_ms - nginx.p50_1_ms
    if chain and chain.p50_ms:
        out["4 p99/p50"] = chain.p99_ms / chain.p50_ms
    return out


@dataclass(frozen=True, slots=True)
class Goal:
    text: str
    value: str
    met: bool


def goals(found: dict[str, float]) -> list[Goal]:
    wanted = (  # issue 12's goals
        ("3/2", 0.35, "bare gateway (3) at >= 35% of nginx proxy_pass (2)"),
        ("4/2", 0.25, "full plugin chain (4) at >= 25% of nginx proxy_pass (2)"),
        ("5/4", 0.75, "redis policy (5) at >= 75% of the local policy (4)"),
    )
    out = []
    for key, low, text in wanted:
        if key not in found:
            continue
        value, met = f"{found[key]:.1%}", found[key] >= low
        both = found.get(f"{key} together")  # the same ratio measured at one moment (bench.run_together)
        if both is not None:  # met only if both ways of measuring agree
            value, met = f"{value} (together: {both:.1%})", met and both >= low
        out.append(Goal(text, value, met))
    if "added p50 ms" in found:
        added = found["added p50 ms"]
        text = "added latency at 1 connection: p50(4) - p50(2) <= 0.3 ms (over nginx proxy_pass)"
        out.append(Goal(text, f"{added:.3f} ms", added <= 0.3))
    if "4 p99/p50" in found:
        spread = found["4 p99/p50"]
        out.append(Goal("full chain's p99 at -c32 <= 2.5 x its p50", f"{spread:.2f} x", spread <= 2.5))
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_console(rows: Sequence[Row]) -> str:
    lines = [f"{'target':58} {'req/s':>9} {'(min-max)':>15} {'p50 ms':>7} {'p99 ms':>7} "
             f"{'p50@1':>6} {'p99@1':>6} {'server':>6} {'us/req':>6} {'load':>5}"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r.number}. {r.label:55} {r.rps:9,.0f} {f'{r.rps_low:,.0f}-{r.rps_high:,.0f}':>15} "
            f"{r.p50_ms:7.2f} {r.p99_ms:7.2f} {_ms(r.p50_1_ms):>6} {_ms(r.p99_1_ms):>6} "
            f"{r.server_cpu:6.0%} {r.cpu_us:6.0f} {r.load_cpu:5.0%}"
        )
    return "\n".join(lines)


def markdown(
    rows: Sequence[Row],
    found: dict[str, float],
    scaling: Sequence[Row],
    machine: dict[str, str],
    settings: dict[str, str],
) -> str:
    out = [
        f"Run {settings['when']}, `make bench` ({settings['duration']}). Load average at start "
        f"{settings['load_before']}, at end {settings['load_after']}.",
        "",
        "| target | req/s | min-max | p50 ms | p99 ms | p50 ms @1 | p99 ms @1 | server CPU "
        "| server CPU us/req | load side CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        out.append(
            f"| {r.number}. {r.label} | {r.rps:,.0f} | {r.rps_low:,.0f}-{r.rps_high:,.0f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {_ms(r.p50_1_ms)} | {_ms(r.p99_1_ms)} | "
            f"{r.server_cpu:.0%} | {r.cpu_us:.0f} | {r.load_cpu:.0%} |"
        )
    out += ["", "| ratio | value |", "| --- | ---: |"]
    for name, value in found.items():
        out.append(f"| {name} | {value:.3f} |" if name.endswith("ms") else f"| {name} | {value:.1%} |")
    out += ["", "| goal | measured | met |", "| --- | ---: | --- |"]
    out += [f"| {g.text} | {g.value} | {'yes' if g.met else '**no**'} |" for g in goals(found)]
    if scaling:
        out += [
            "",
            f"Workers ({settings['scaling']}):",
            "",
            "| gateway | req/s | min-max | p50 ms | p99 ms | gateway CPU | gateway CPU us/req | wrk CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r.label} | {r.rps:,.0f} | {r.rps_low:,.0f}-{r.rps_high:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.server_cpu:.0%} | {r.cpu_us:.0f} | {r.wrk_cpu:.0%} |"
            for r in scaling
        ]
    out += ["", "Machine:", ""]
    out += [f"- {name}: {value}" for name, value in machine.items()]
    shown = ("when", "load_before", "load_after", "duration", "scaling")  # said above
    out += [f"- {name}: {value}" for name, value in settings.items() if name not in shown]
    return "\n".join(out)


def replace_section(path: Path, name: str, body: str) -> None:
    """Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->` in `path`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else ""
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    path.write_text(text)
