"""The real platform as processes on loopback for the browser tests: a migrated SQLite registry seeded
with the example agencies, their upstreams (shifted by a port offset), the gateway and the portal."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from examples.catalog import EXAMPLES

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "devportal" / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots the browser tests save: tmp/artifacts/portal/ (ignored by git), or $AGORA_ARTIFACTS_DIR.
ARTIFACTS = Path(os.environ.get("AGORA_ARTIFACTS_DIR") or REPO / "tmp" / "artifacts") / "portal"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def upstream_offset() -> int:
    for _ in range(50):
        offset = random.randrange(1000, 40000)
        if _ports_free([example.port + offset for example in EXAMPLES]):
            return offset
    raise RuntimeError("no free ports for the example upstreams")


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Stack:
    root: Path
    env: dict[str, str]
    portal_url: str = ""
    gateway_url: str = ""
    offset: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    def agora(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agora", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"agora {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"{args[-1] if args else 'proc'}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, *args], env=self.env, cwd=REPO, stdout=log, stderr=log)
        log.close()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_stack(
    root: Path, *, gateway: bool, extra_env: dict[str, str] | None = None, portal_port: int | None = None
) -> Stack:
    """Migrate and seed a fresh registry; start the portal (and the upstreams and gateway if asked)."""
    portal_port, gateway_port = portal_port or free_port(), free_port()
    env = {
        **os.environ,
        "AGORA_DATABASE_URL": f"sqlite:///{root / 'agora.db'}",
        "AGORA_STATE_DIR": str(root / "state"),
        "AGORA_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
        "AGORA_PORTAL_URL": f"http://127.0.0.1:{portal_port}",
        "AGORA_OUTBOX_DIR": str(root / "outbox"),
        "AGORA_PORTAL_REBUILD_SECONDS": "1",
        "AGORA_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    env.pop("AGORA_SMTP_URL", None)
    stack = Stack(
        root=root, env=env, portal_url=env["AGORA_PORTAL_URL"], gateway_url=env["AGORA_GATEWAY_URL"]
    )
    stack.offset = upstream_offset()
    stack.agora("db", "upgrade")
    stack.agora("seed", "--port-offset", str(stack.offset), "--credentials", str(root / "credentials.json"))
    try:
        portal = stack.spawn(
            "-m", "agora", "portal", "serve", "--port", str(portal_port), "--out", str(root / "portal")
        )
        if gateway:
            upstreams = stack.spawn("-m", "examples.upstreams.serve", "--port-offset", str(stack.offset))
            gw = stack.spawn("-m", "agora", "gateway", "--port", str(gateway_port))
            wait_for(f"http://127.0.0.1:{9101 + stack.offset}/", upstreams)
            wait_for(stack.gateway_url + "/", gw)
        wait_for(stack.portal_url + "/index.html", portal, timeout=120)
        while httpx.get(stack.portal_url + "/", timeout=5).status_code == 503:  # first build still running
            time.sleep(0.3)
    except Exception:
        stack.stop()
        raise
    return stack


def artifacts_dir(name: str) -> Path:
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path
