"""Helpers of the gateway integration tests: free ports, process control, snapshot builders, RSS."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
UPSTREAM = Path(__file__).with_name("upstream.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError(url)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def serving(args: list[str], ready: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server process started from the repository, once `ready` answers; stopped on the way out."""
    process = subprocess.Popen(args, cwd=REPO)
    try:
        wait_for(ready, process)
        yield process
    finally:
        stop(process)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def route(method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"operation_id": f"{method.lower()}{path}", "method": method, "path": path, "plugins": [], **extra}


def service(name: str, upstream: str | None, routes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    agency, api, major = name.split(".")
    return {
        "name": name,
        "agency": agency,
        "api": api,
        "title": api,
        "version": f"{major[1:]}.0.0",
        "major": int(major[1:]),
        "prefix": f"/{agency}/{api}/{major}",
        "upstream": upstream,
        "status": "published",
        "access": "open",
        "sunset": None,
        "successor": None,
        "changelog": f"/{agency}/{api}/changelog/",
        "timeouts": {"connect": 2.0, "read": 5.0},
        "max_body_bytes": 10 * 1024 * 1024,
        "plugins": [],
        "routes": routes,
        **extra,
    }


def snapshot(services: list[dict[str, Any]], snapshot_id: str = "sha256:test") -> dict[str, Any]:
    return {"format": 1, "id": snapshot_id, "services": services, "consumers": [], "plans": {}}


def write_snapshot(path: Path, document: dict[str, Any]) -> None:
    """Atomic, like the registry's publication: a reader never sees half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document))
    os.replace(temporary, path)


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen[bytes]
    snapshot: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid


StartGateway = Callable[..., GatewayProcess]


def consumer_with_key(username: str, key: str, *, sandbox: bool = False) -> dict[str, Any]:
    """A consumer whose credential prefix is the whole key (what `demo-key` in the test plugins checks)."""
    return {
        "id": f"app-{username}",
        "username": username,
        "developer": f"{username}@example.org",
        "plan": "free",
        "credentials": [
            {"id": f"cred-{key}", "prefix": key, "digest": "", "expires_at": None, "sandbox": sandbox}
        ],
        "grants": [],
    }
