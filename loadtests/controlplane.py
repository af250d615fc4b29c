"""The admin API and the portal loaded together while a large spec is published (issue 14, item 9).

    python -m loadtests.controlplane [--run-time 60s] [--users 20] [--operations 3000]

Uses `make run`'s platform when the admin API answers on 127.0.0.1:8001, or starts `agora run` and
stops it afterwards. Runs loadtests/controlplane_locustfile.py headless for a bounded time (locust's
--run-time, and a hard timeout after it), prints the portal pages' p99 and exits non-zero when it is
500 ms or more, when an answer was unexpected, or when no publication completed. Reports go to
var/loadtest/controlplane_*.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

__all__ = ["main", "seconds"]

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "var" / "loadtest"
CREDENTIALS = REPO / "var" / "demo-credentials.json"
ADMIN = "http://127.0.0.1:8001"
PORTAL = "http://127.0.0.1:8002"
READY_TIMEOUT = 120.0


def seconds(run_time: str) -> float:
    """locust's --run-time ("90", "45s", "2m", "1h") in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = run_time.strip().lower()
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.TransportError:
        return False


def _start() -> subprocess.Popen[bytes]:
    OUT.mkdir(parents=True, exist_ok=True)
    log = (OUT / "controlplane_platform.log").open("ab")
    print("starting `agora run` (log: var/loadtest/controlplane_platform.log)", flush=True)
    return subprocess.Popen(
        [sys.executable, "-m", "agora", "run"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _wait_ready(process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"`agora run` exited with {process.returncode}")
        if _up(ADMIN + "/admin/status") and _up(PORTAL + "/"):
            return
        time.sleep(0.5)
    raise SystemExit(f"the admin API or the portal is not ready after {READY_TIMEOUT:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.controlplane", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--run-time", default="60s", help="how long the load lasts (default 60s)")
    parser.add_argument("--users", type=int, default=20, help="portal and admin readers (default 20)")
    parser.add_argument("--operations", type=int, default=3000, help="operations of the published spec")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    process = None if _up(ADMIN + "/admin/status") else _start()
    try:
        _wait_ready(process)
        token = json.loads(CREDENTIALS.read_text())["admin_token"]
        locust = Path(sys.executable).with_name("locust")
        locustfile = REPO / "loadtests" / "controlplane_locustfile.py"
        command = [
            str(locust if locust.exists() else "locust"), "-f", str(locustfile),
            "--headless", "--users", str(args.users + 1), "--spawn-rate", "10", "--run-time", args.run_time,
            "--stop-timeout", "130", "--csv", str(OUT / "controlplane"), "--only-summary",
        ]  # fmt: skip
        env = {
            **os.environ,
            "AGORA_CONTROLPLANE_ADMIN": ADMIN,
            "AGORA_CONTROLPLANE_PORTAL": PORTAL,
            "AGORA_CONTROLPLANE_TOKEN": token,
            "AGORA_CONTROLPLANE_OPERATIONS": str(args.operations),
        }
        # The hard bound: the run, one publication's worth of stop timeout, and start-up.
        limit = seconds(args.run_time) + 200
        try:
            return subprocess.run(command, cwd=REPO, env=env, timeout=limit).returncode
        except subprocess.TimeoutExpired:
            print(f"locust did not stop within {limit:.0f} s", file=sys.stderr)
            return 1
    finally:
        if process is not None:
            _stop(process)


if __name__ == "__main__":
    raise SystemExit(main())
