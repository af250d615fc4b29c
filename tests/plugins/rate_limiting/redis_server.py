"""A private `redis-server` of a test's own (Debian's /usr/bin/redis-server) on a free loopback port,
which the test may stop and start again: the shared Redis on 6379 is never stopped or flushed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

__all__ = ["PrivateRedis", "delete_keys", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """`extra`: more redis-server options (a TLS port, a Unix socket...); `password`: its requirepass."""

    def __init__(self, workdir: Path, *extra: str, password: str | None = None) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.workdir = workdir
        self.port = free_port()  # kept across restarts: clients find it where it was
        self.password = password
        port = str(self.port)
        self.args = [
            binary,
            "--port",
            port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            *extra,
        ]
        if password is not None:
            self.args += ["--requirepass", password]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.args, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, password=self.password, socket_timeout=0.5) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise TimeoutError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, password=self.password, socket_timeout=2)


def delete_keys(url: str, pattern: str) -> int:
    """Deletes this test's keys only (other tests share the Redis: never FLUSHALL)."""
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        keys = list(client.scan_iter(match=pattern, count=1000))
        return int(client.delete(*keys)) if keys else 0
