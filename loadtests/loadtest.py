"""`make loadtest`: locust's realistic mix (loadtests/locustfile.py) against `make run`'s platform.

    python -m loadtests.loadtest [--users 60] [--run-time 60s] [--host http://127.0.0.1:8000]

Uses the platform already listening on the gateway's port, or starts `agora run` (and stops it
afterwards), with the gateway trusting loopback's X-Forwarded-For as it would its load balancer's.
Adds the load test's developers and keys to the registry (loadtests/seed.py), waits until the
gateway serves them, runs locust headless for a bounded time and writes its CSV and HTML reports
to var/loadtest/. Exits non-zero when unexpected answers exceed 0.1% (the locustfile judges).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .seed import KEYS_FILE, seed_callers

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "var" / "loadtest"
READY_TIMEOUT = 120.0
# The platform is ready when the open API reaches its upstream; the keys are served when a granted
# load-test key passes on the key and the restricted API.
OPEN_PROBE = "/cadastre/addresses/v1/municipalities"
KEY_PROBES = ("/commerce/companies/v1/companies/RC100001", "/meteo/warnings/v1/regions")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start_platform() -> subprocess.Popen[bytes]:
    env = {**os.environ, "AGORA_GATEWAY_TRUSTED_PROXIES": "127.0.0.0/8"}
    log = (OUT / "platform.log").open("ab")
    print("starting `agora run` (log: var/loadtest/platform.log)", flush=True)
    return subprocess.Popen(
        [sys.executable, "-m", "agora", "run"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop_platform(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # `agora run` stops its children itself
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


Check = Callable[[str], str | None]  # None: ready; otherwise what is not


def _wait(host: str, what: str, check: Check, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last: str | None = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"`agora run` exited with {process.returncode}; see var/loadtest/platform.log")
        try:
            last = check(host)
            if last is None:
                return
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise SystemExit(f"{what} not ready after {READY_TIMEOUT:.0f} s: {last}")


def _platform_ready(host: str) -> str | None:
    answer = httpx.get(host + "/readyz", timeout=5)
    if answer.status_code != 200:
        return f"/readyz {answer.status_code}"
    probe = httpx.get(host + OPEN_PROBE, timeout=5)
    return None if probe.status_code == 200 else f"{OPEN_PROBE} {probe.status_code}"


def _keys_served(key: str) -> Check:
    def check(host: str) -> str | None:
        for path in KEY_PROBES:
            answer = httpx.get(host + path, headers={"apikey": key}, timeout=5)
            if answer.status_code != 200:
                return f"{path} answered {answer.status_code} to a load-test key"
        return None

    return check


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--users", type=int, default=60, help="simultaneous users (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second (default 20)")
    parser.add_argument("--run-time", default="60s", help="how long the load lasts (default 60s)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(args.host)
    process = None
    if not _listening(parts.hostname or "127.0.0.1", parts.port or 80):
        process = _start_platform()
    else:
        print(f"using the platform already listening at {args.host}", flush=True)
    try:
        _wait(args.host, "the gateway", _platform_ready, process)
        keys = seed_callers(REPO / KEYS_FILE)
        granted = next(d["key"] for d in keys["developers"] if d["granted"])
        _wait(args.host, "the load test's keys", _keys_served(granted), process)
        locust = Path(sys.executable).with_name("locust")
        command = [
            str(locust if locust.exists() else "locust"), "-f", str(REPO / "loadtests" / "locustfile.py"),
            "--headless", "--host", args.host, "--users", str(args.users),
            "--spawn-rate", str(args.spawn_rate), "--run-time", args.run_time, "--stop-timeout", "10",
            "--csv", str(OUT / "locust"), "--html", str(OUT / "report.html"), "--only-summary",
        ]  # fmt: skip
        env = {**os.environ, "AGORA_LOADTEST_KEYS": str(REPO / KEYS_FILE)}
        print(f"locust: {args.users} users for {args.run_time} against {args.host}", flush=True)
        code = subprocess.run(command, cwd=REPO, env=env).returncode
        print(f"reports: var/loadtest/report.html, var/loadtest/locust_*.csv (exit {code})")
        return code
    finally:
        if process is not None:
            _stop_platform(process)


if __name__ == "__main__":
    raise SystemExit(main())
