"""docker-compose.yml's topology as processes on loopback: one admin process (`agora admin`), gateway
processes (`agora gateway`, each polling the registry database), the real Redis and PostgreSQL given by
URL, and the gateway tests' echo upstream. Nothing is stubbed: the agency publishes through the admin
API, the gateways learn it by polling, meter into the database and count in Redis.

The fault suite (tests/integration/faults) runs the same `Platform` on a private PostgreSQL and Redis it
may stop; this suite runs it on the machine's shared ones (its own database; its own Redis keys).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from registry import migrate
from registry.db import make_engine, make_sessionmaker
from registry.models import Role, UsageRecord
from registry.services import agencies, applications, plans, tokens
from registry.unit_of_work import change

__all__ = [
    "AGENCY",
    "HMAC_HEX",
    "HMAC_KEY",
    "REPO",
    "GatewayHandle",
    "Platform",
    "create_database",
    "drop_database",
    "free_port",
    "probe_spec",
    "wait_until",
]

REPO = Path(__file__).resolve().parents[3]
UPSTREAM_SCRIPT = REPO / "tests" / "gateway" / "integration" / "upstream.py"
HMAC_HEX = "7c" * 32
HMAC_KEY = bytes.fromhex(HMAC_HEX)
AGENCY = "topo"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Any, timeout: float, interval: float = 0.05, what: str = "condition") -> float:
    """Calls `check()` until it is truthy; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if check():
                return time.monotonic() - started
        except (httpx.TransportError, OSError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout} s")


def create_database(server: str, name: str) -> str:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def probe_spec(title: str, version: str, paths: Iterable[str], plugins: dict[str, Any] | None = None) -> str:
    """A small OpenAPI 3.0 document: one GET operation per path."""
    import json

    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version, "description": "Topology probe"},
        "paths": {
            path: {
                "get": {
                    "operationId": "get" + path.replace("/", "_").replace("{", "").replace("}", ""),
                    "summary": f"GET {path}",
                    "parameters": [
                        {"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                        for p in path.split("/")
                        if p.startswith("{")
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            }
            for path in paths
        },
    }
    if plugins is not None:
        document["x-agora-plugins"] = plugins
    return json.dumps(document)


@dataclass
class GatewayHandle:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Platform:
    root: Path
    database_url: str
    redis_url: str
    upstream: str
    env: dict[str, str]
    admin_url: str = ""
    admin_token: str = ""
    gateways: dict[str, GatewayHandle] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # -- processes -------------------------------------------------------------------------------
    def spawn(self, name: str, *args: str, cwd: Path | None = None, **env: str) -> subprocess.Popen[bytes]:
        where = cwd or self.root
        where.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *args], env={**self.env, **env}, cwd=where, stdout=log, stderr=log
            )
        self.processes[name] = process
        return process

    def start_upstream(self) -> None:
        port = free_port()
        process = self.spawn("upstream", str(UPSTREAM_SCRIPT), str(port))
        self.upstream = f"http://127.0.0.1:{port}"
        wait_ready(self.upstream + "/stats", process)

    def start_admin(self) -> None:
        port = free_port()
        process = self.spawn("admin", "-m", "agora", "admin", "--port", str(port))
        self.admin_url = f"http://127.0.0.1:{port}"
        wait_ready(self.admin_url + "/admin/openapi.json", process)

    def start_gateway(self, name: str, port: int | None = None) -> GatewayHandle:
        port = port or free_port()
        process = self.spawn(f"gateway-{name}", "-m", "agora", "gateway", "--port", str(port),
                             cwd=self.root / f"gateway-{name}")  # fmt: skip
        handle = GatewayHandle(name, f"http://127.0.0.1:{port}", process)
        self.gateways[name] = handle
        wait_ready(handle.url + "/readyz", process, status=200)
        return handle

    def kill_gateway(self, name: str) -> GatewayHandle:
        handle = self.gateways.pop(name)
        handle.process.send_signal(signal.SIGKILL)
        handle.process.wait(10)
        return handle

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob("*.log")))

    # -- the registry ---------------------------------------------------------------------------------
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(make_engine(self.database_url))

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.admin_url + path, headers=headers, timeout=30, **kwargs)

    def publish(self, spec: str, *, api: str, access: str = "open") -> dict[str, Any]:
        response = self.admin(
            "POST",
            f"/admin/agencies/{AGENCY}/apis",
            json={"spec": spec, "upstream": self.upstream + "/echo", "api": api, "access_level": access,
                  "accept_findings": True},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def issue_key(self, email: str, plan: str = "free") -> tuple[str, str]:
        """(application id, API key) of a new developer's application on `plan`."""
        sessions = self.sessions()
        try:
            with change(sessions) as session:
                developer = applications.create_developer(session, email=email, verified=True, actor="t")
                app = applications.create_application(
                    session, developer=developer, name=email, plan=plans.get_plan(session, plan), actor="t"
                )
                _, key = applications.issue_key(session, app, hmac_key=HMAC_KEY, actor="t")
                return app.id, key
        finally:
            sessions.kw["bind"].dispose()

    def usage_count(self, api: str, operation_id: str | None = None) -> int:
        engine = make_engine(self.database_url)
        try:
            query = select(func.count()).select_from(UsageRecord).where(UsageRecord.api == api)
            if operation_id is not None:
                query = query.where(UsageRecord.operation_id == operation_id)
            with engine.connect() as conn:
                return int(conn.scalar(query) or 0)
        finally:
            engine.dispose()

    def usage_ids(self, api: str) -> list[str]:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [
                    str(r) for r in conn.scalars(select(UsageRecord.request_id).where(UsageRecord.api == api))
                ]
        finally:
            engine.dispose()


def wait_ready(
    url: str, process: subprocess.Popen[bytes], timeout: float = 60.0, status: int | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            answer = httpx.get(url, timeout=2)
            if status is None or answer.status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def start_platform(
    root: Path, *, database_url: str, redis_url: str, gateways: Iterable[str] = ("a", "b"), **env: str
) -> Platform:
    """Migrates the database, creates the agency, the free plan and a platform-admin token, then starts
    the upstream, the admin and the gateways. Stops what it started if anything fails."""
    environment = {
        **os.environ,
        "AGORA_DATABASE_URL": database_url,
        "AGORA_REDIS_URL": redis_url,
        "AGORA_HMAC_KEY": HMAC_HEX,
        "AGORA_SESSION_SECRET": "topology-session-secret",
        "AGORA_STATE_DIR": str(root / "state"),
        "AGORA_LOG_LEVEL": "warning",
        "AGORA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",  # the test upstreams listen on loopback
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **env,
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "AGORA_GATEWAY_SNAPSHOT", "AGORA_USAGE_INGEST_URL",
                 "AGORA_GATEWAY_METRICS_PORT"):  # fmt: skip
        environment.pop(name, None)
    platform = Platform(
        root=root, database_url=database_url, redis_url=redis_url, upstream="", env=environment
    )
    try:
        migrate.upgrade(database_url)
        sessions = platform.sessions()
        with change(sessions) as session:
            agency = agencies.create_agency(session, slug=AGENCY, name="Topology", actor="t")
            plans.create_plan(session, slug="free", name="Free", limits={}, agency=None, actor="t")
            _, platform.admin_token = tokens.create_token(
                session, name="topology", role=Role.PLATFORM_ADMIN, agencies=[], hmac_key=HMAC_KEY, actor="t"
            )
            del agency
        sessions.kw["bind"].dispose()
        platform.start_upstream()
        platform.start_admin()
        for name in gateways:
            platform.start_gateway(name)
    except BaseException:
        platform.stop()
        raise
    return platform
