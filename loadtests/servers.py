"""The processes a bench measures or needs, each on loopback, pinned with `taskset` when asked:
nginx (a fixed-answer upstream, or `proxy_pass` in front of one), Redis, and Agora's gateway.

Every process is started in the foreground of its own process group, so `stop` ends it and its
workers together; CPU time is read from /proc for the process and its descendants.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "Server",
    "ensure_tools",
    "free_port",
    "origin_config",
    "proxy_config",
    "start_gateway",
    "start_nginx",
    "start_redis",
    "tree_cpu_seconds",
]

REPO = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")
# Debian's packages for what the bench runs; installed with apt when missing and allowed (root).
TOOLS = {"nginx": "nginx", "wrk": "wrk", "redis-server": "redis-server", "taskset": "util-linux"}


def ensure_tools(names: Sequence[str] = tuple(TOOLS)) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    packages = sorted({TOOLS[name] for name in missing})
    if os.geteuid() != 0:
        raise SystemExit(f"missing {', '.join(missing)}: apt-get install -y {' '.join(packages)} (as root)")
    print(f"installing {' '.join(packages)} (apt)", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system time of `pid` and its live descendants (all their threads), in seconds."""
    tree, total, todo = _children(), 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        todo += tree.get(current, [])
    return total / _TICKS


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    cpus: tuple[int, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def _pinned(args: list[str], cpus: Sequence[int]) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus)), *args] if cpus else args


def _spawn(
    name: str, args: list[str], directory: Path, cpus: Sequence[int], env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log = directory / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            _pinned(args, cpus), stdout=out, stderr=subprocess.STDOUT, cwd=directory,
            env=dict(env) if env is not None else None, start_new_session=True,
        )  # fmt: skip
    return process, log


def wait_ready(server: Server, path: str = "/", headers: Mapping[str, str] | None = None) -> None:
    """Until `path` answers 200 (30 s at most; the log is shown if the process died)."""
    deadline, last = time.monotonic() + 30, "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            answer = httpx.get(server.url + path, headers=dict(headers or {}), timeout=2)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{server.name} not ready at {server.url}{path}: {last}")


_NGINX = """\
worker_processes 1;
daemon off;
master_process on;
pid {dir}/{name}.pid;
error_log {dir}/{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/{name}-body;
  proxy_temp_path {dir}/{name}-proxy;
  fastcgi_temp_path {dir}/{name}-fastcgi;
  uwsgi_temp_path {dir}/{name}-uwsgi;
  scgi_temp_path {dir}/{name}-scgi;
  keepalive_timeout 75s;
  keepalive_requests 1000000;  # no reconnections in the middle of a run (the default is 1,000)
{body}
}}
"""
# The upstream of every target: a fixed JSON answer, so it is never the bottleneck.
HELLO = '{"hello":"world"}'


def origin_config(port: int) -> str:
    return f"""\
  server {{
    listen 127.0.0.1:{port};
    location / {{
      default_type application/json;
      return 200 '{HELLO}';
    }}
  }}"""


def proxy_config(port: int, origin_port: int) -> str:
    """nginx's `proxy_pass` with keep-alive to the upstream: the practical limit of a proxy."""
    return f"""\
  upstream origin {{
    server 127.0.0.1:{origin_port};
    keepalive 64;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}"""


def start_nginx(name: str, body: str, port: int, directory: Path, cpus: Sequence[int] = ()) -> Server:
    config = directory / f"{name}.conf"
    config.write_text(_NGINX.format(dir=directory, name=name, body=body))
    args = ["nginx", "-p", str(directory), "-c", str(config), "-e", str(directory / f"{name}.error.log")]
    process, log = _spawn(name, args, directory, cpus)
    server = Server(name, f"http://127.0.0.1:{port}", process, log, tuple(cpus))
    wait_ready(server)
    return server


def start_redis(port: int, directory: Path, cpus: Sequence[int] = ()) -> Server:
    args = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", str(directory)]  # fmt: skip
    process, log = _spawn("redis", args, directory, cpus)
    server = Server("redis", f"redis://127.0.0.1:{port}/0", process, log, tuple(cpus))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return server
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("redis did not answer PING")


def start_forwarder(port: int, upstream: str, directory: Path, cpus: Sequence[int] = (),
                    ready_path: str = "/", module: str = "forwarder") -> Server:  # fmt: skip
    """A yardstick forwarding to `upstream`: loadtests/forwarder.py (the bare uvicorn + aiohttp proxy)
    or, with `module="rawforwarder"`, loadtests/rawforwarder.py (raw protocols, callbacks only)."""
    args = [sys.executable, "-m", f"loadtests.{module}", "--port", str(port), "--upstream", upstream]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # it runs in `directory`, away from the repository
    process, log = _spawn(module, args, directory, cpus, env)
    server = Server(module, f"http://127.0.0.1:{port}", process, log, tuple(cpus))
    wait_ready(server, ready_path)
    return server


# The gateway's environment is the bench's own: nothing from the caller's shell changes what is measured.
_CLEARED = ("AGORA_", "PROMETHEUS_MULTIPROC_DIR")


def start_gateway(
    name: str,
    *,
    port: int,
    snapshot: Path,
    directory: Path,
    env: Mapping[str, str],
    cpus: Sequence[int] = (),
    workers: int = 1,
    ready_path: str = "/readyz",
    ready_headers: Mapping[str, str] | None = None,
) -> Server:
    """`python -m gateway` (the CLI: uvicorn, uvloop, httptools) serving `snapshot`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
    environment.update({"PYTHONPATH": str(REPO), "AGORA_LOG_LEVEL": "warning", **env})
    args = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--snapshot", str(snapshot)]  # fmt: skip
    process, log = _spawn(name, args, directory, cpus, environment)
    server = Server(name, f"http://127.0.0.1:{port}", process, log, tuple(cpus))
    wait_ready(server, "/readyz")
    wait_ready(server, ready_path, ready_headers)
    return server
