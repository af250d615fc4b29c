"""CPU time per request of Agora's own code, in process: the gateway's pipeline and plugins driven
through the engine's seam (gateway/engine/http.py), with an upstream that answers at once (no sockets).

    python -m loadtests.stackcost [--requests 20000] [--rounds 5] [--personal-data] [--pdk]

The bench (loadtests/bench.py) measures the whole server; this isolates the part Agora can change,
and, being CPU time rather than throughput, it holds still on a busy machine. Each round times the
bare stack and the full plugin chain (the bench's snapshot, local policy, metering to SQLite) in
turn; the median per-request figure of each is printed, with the plugins' share: the process's CPU
time (all threads: metering's flusher included) and the event loop thread's alone. `--personal-data`
adds a third stack: the full chain plus personal-data-log on the route (subject in a header, rows to the
same SQLite), and prints what it adds to the full chain. `--pdk` adds the full chain with the plugins'
fast path turned off (every plugin through the PDK, gateway/pipeline/fast.py), for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .fixtures import BENCH_PATH, BENCH_SUBJECT, build_platform, with_personal_data, without_plugins

__all__ = ["main", "run_requests"]

HELLO = b'{"hello":"world"}'
# What a typical HTTP client sends (curl, requests, a browser's fetch send about this many).
CLIENT_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"python-requests/2.32"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept", b"*/*"),
    (b"connection", b"keep-alive"),
]


class _Response:
    status = 200

    def __init__(self) -> None:
        self.headers = [(b"content-type", b"application/json"), (b"content-length", b"17")]
        self._done = False

    async def read(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        return HELLO

    def whole(self) -> bytes | None:
        if self._done:
            return b""
        self._done = True
        return HELLO

    def close(self) -> None:
        pass


class InstantTransport:
    """An upstream that answers every request at once with a fixed JSON body."""

    async def start(self) -> None:
        pass

    async def send(self, request: Any) -> _Response:
        return _Response()

    async def send_encoded(self, *args: Any, **kwargs: Any) -> _Response:
        return _Response()  # the gateway's path with the shipped client: header lines as bytes

    async def aclose(self) -> None:
        pass


class _Answer:
    """The least a responder does: keeps the status (the engine's writes are not what is measured)."""

    __slots__ = ("bytes_sent", "started", "status")

    def __init__(self) -> None:
        self.status = self.bytes_sent = 0
        self.started = False

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status, self.started = status, True

    async def write(self, chunk: bytes) -> None:
        self.bytes_sent += len(chunk)

    def end(self, chunk: bytes = b"") -> None:
        self.bytes_sent += len(chunk)

    def answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.start(status, headers)
        self.end(body)


async def run_requests(app: Any, headers: list[tuple[bytes, bytes]], count: int) -> tuple[float, float]:
    """Sends `count` requests one after the other through the gateway's handler (the engine's seam);
    returns the CPU seconds they took: the whole process's, and the event loop's thread's alone."""
    from gateway.engine.http import Request

    statuses: set[int] = set()
    started, loop_started = time.process_time(), time.thread_time()
    for _ in range(count):
        answer = _Answer()
        await app(Request("GET", BENCH_PATH, "", headers, peer="127.0.0.1"), answer)
        statuses.add(answer.status)
    elapsed, loop_elapsed = time.process_time() - started, time.thread_time() - loop_started
    if statuses != {200}:
        raise RuntimeError(f"answers other than 200: {sorted(statuses)}")
    return elapsed, loop_elapsed


def _gateway(snapshot: dict[str, Any], *, fast_path: bool = True) -> Any:
    from gateway.app import create_app
    from gateway.config.compiled import compile_snapshot
    from gateway.pipeline.plugin_host import PluginRegistry
    from gateway.settings import GatewaySettings

    settings = GatewaySettings.from_env()
    registry = PluginRegistry.discover("plugins")
    config = compile_snapshot(snapshot, registry)
    return create_app(
        settings, transport=InstantTransport(), registry=registry, config=config, fast_path=fast_path
    )


async def _measure(
    requests: int, rounds: int, directory: Path, personal_data: bool = False, pdk: bool = False
) -> dict[str, list[tuple[float, float]]]:
    platform = build_platform(directory, "http://127.0.0.1:9")
    os.environ.update(
        {
            "AGORA_HMAC_KEY": platform.hmac_hex,
            "AGORA_DATABASE_URL": platform.database_url,
            "AGORA_STATE_DIR": str(directory / "state"),
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
        }
    )
    for name in ("AGORA_REDIS_URL", "AGORA_USAGE_INGEST_URL"):
        os.environ.pop(name, None)
    apps = {"bare": _gateway(without_plugins(platform.snapshot)), "plugins": _gateway(platform.snapshot)}
    headers = {"bare": CLIENT_HEADERS, "plugins": [*CLIENT_HEADERS, (b"apikey", platform.api_key.encode())]}
    if pdk:
        apps["plugins (PDK)"] = _gateway(platform.snapshot, fast_path=False)
        headers["plugins (PDK)"] = headers["plugins"]
    if personal_data:
        apps["personal-data"] = _gateway(with_personal_data(platform.snapshot))
        headers["personal-data"] = [*headers["plugins"], BENCH_SUBJECT]
    for app in apps.values():
        await app.startup()
    try:
        for name, app in apps.items():
            await run_requests(app, headers[name], min(2000, requests))  # warm-up
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
        for _ in range(rounds):
            for name, app in apps.items():
                process, loop = await run_requests(app, headers[name], requests)
                results[name].append((process / requests * 1e6, loop / requests * 1e6))
        return results
    finally:
        for app in apps.values():
            await app.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.stackcost", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=20_000, help="per round and stack (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument(
        "--personal-data", action="store_true", help="also time the full chain plus personal-data-log"
    )
    parser.add_argument(
        "--pdk", action="store_true", help="also time the full chain with the plugins' fast path off"
    )
    args = parser.parse_args(argv)
    import uvloop

    with tempfile.TemporaryDirectory(prefix="agora-stackcost-") as tmp:
        results = uvloop.run(_measure(args.requests, args.rounds, Path(tmp), args.personal_data, args.pdk))
    medians = {}
    for name, values in results.items():
        process = statistics.median(v[0] for v in values)
        loop = statistics.median(v[1] for v in values)
        medians[name] = process
        print(f"{name:14} {process:7.1f} us CPU per request, {loop:7.1f} us of it on the event loop's thread "
              f"(rounds: {', '.join(f'{v[0]:.1f}' for v in values)})")  # fmt: skip
    bare, plugins = medians["bare"], medians["plugins"]
    print(f"plugins add {plugins - bare:.1f} us per request ({plugins / bare - 1:.0%} of the bare stack)")
    if "plugins (PDK)" in medians:
        print(f"without the fast path, plugins add {medians['plugins (PDK)'] - bare:.1f} us per request")
    if "personal-data" in medians:
        logged = medians["personal-data"]
        print(f"personal-data-log adds {logged - plugins:.1f} us per request to the full chain")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
