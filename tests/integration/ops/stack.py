"""The platform as real processes for the operations tests: a fresh PostgreSQL database migrated and
seeded with the example agencies, each example upstream in its own process (so one can be killed), a
gateway with two worker processes and its metrics listener, and the admin process with its scheduler.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from examples.catalog import EXAMPLES
from tests.devportal.browser.stack import free_port, upstream_offset, wait_for

REPO = Path(__file__).resolve().parents[3]
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
UPSTREAMS = {example.api_slug: example.port for example in EXAMPLES}


@dataclass
class OpsStack:
    root: Path
    env: dict[str, str]
    database: str
    offset: int
    gateway_url: str = ""
    metrics_url: str = ""
    admin_url: str = ""
    credentials: dict[str, str] = field(default_factory=dict)
    upstreams: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def metrics_dir(self) -> Path:
        return self.root / "gateway-metrics"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['admin_token']}"}

    def upstream_origin(self, name: str) -> str:
        return f"http://127.0.0.1:{UPSTREAMS[name] + self.offset}"

    def agora(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "agora", *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"agora {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([sys.executable, *args], env={**self.env, **env}, cwd=self.root,
                                       stdout=log, stderr=log)  # fmt: skip
        self.processes.append(process)
        return process

    def start_upstream(self, name: str, *, wait: bool = True) -> None:
        process = self.spawn(f"upstream-{name}", "-m", "examples.upstreams.serve", "--only", name,
                             "--port-offset", str(self.offset))  # fmt: skip
        self.upstreams[name] = process
        if wait:
            wait_for(self.upstream_origin(name) + "/health", process)

    def kill_upstream(self, name: str) -> None:
        process = self.upstreams.pop(name)
        process.send_signal(signal.SIGKILL)  # a crash, not a graceful stop
        process.wait(10)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()


def _migrate_and_seed(env: dict[str, str], offset: int) -> dict[str, str]:
    """In this process: two `agora` processes would cost ~15 s of start-up on a busy machine."""
    from agora.settings import load_settings
    from examples.seed import seed
    from registry import migrate
    from registry.db import make_engine, make_sessionmaker
    from registry.unit_of_work import change

    migrate.upgrade(env["AGORA_DATABASE_URL"])
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    engine = make_engine(env["AGORA_DATABASE_URL"])
    try:
        with change(make_sessionmaker(engine)) as session:
            return seed(session, settings, port_offset=offset)
    finally:
        engine.dispose()


def start_ops_stack(root: Path) -> OpsStack:
    database = f"agora_ops_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    env = {
        **os.environ,
        "AGORA_DATABASE_URL": f"{PG_SERVER}/{database}",
        "AGORA_STATE_DIR": str(root / "state"),
        "AGORA_HMAC_KEY": secrets.token_hex(32),  # the same secrets in this process and the children
        "AGORA_SESSION_SECRET": secrets.token_urlsafe(32),
        "AGORA_LOG_LEVEL": "warning",
        "AGORA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",  # the test upstreams listen on loopback
        "AGORA_ROLLUP_INTERVAL": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "AGORA_GATEWAY_SNAPSHOT", "AGORA_USAGE_INGEST_URL"):
        env.pop(name, None)
    stack = OpsStack(root=root, env=env, database=database, offset=upstream_offset())
    try:
        stack.credentials = _migrate_and_seed(env, stack.offset)
        for name in UPSTREAMS:  # all started at once: start-up is slow on a busy machine
            stack.start_upstream(name, wait=False)
        gateway_port, metrics_port, admin_port = free_port(), free_port(), free_port()
        stack.gateway_url = f"http://127.0.0.1:{gateway_port}"
        stack.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        stack.admin_url = f"http://127.0.0.1:{admin_port}"
        gateway = stack.spawn(
            "gateway", "-m", "agora", "gateway", "--port", str(gateway_port), "--workers", "2",
            "--metrics-port", str(metrics_port), PROMETHEUS_MULTIPROC_DIR=str(stack.metrics_dir),
        )  # fmt: skip
        admin = stack.spawn("admin", "-m", "agora", "admin", "--port", str(admin_port),
                            AGORA_GATEWAY_METRICS_DIR=str(stack.metrics_dir))  # fmt: skip
        for name, process in stack.upstreams.items():
            wait_for(stack.upstream_origin(name) + "/health", process)
        wait_for(stack.admin_url + "/admin/openapi.json", admin)
        wait_for(stack.gateway_url + "/readyz", gateway)
        ready = 0  # fresh connections land on either worker: both must have loaded the snapshot
        for _ in range(200):
            ready = ready + 1 if httpx.get(stack.gateway_url + "/readyz", timeout=5).status_code == 200 else 0
            if ready == 10:
                break
    except Exception:
        stack.stop()
        raise
    return stack
