"""Serving: `agora admin`, `agora gateway`, `agora seed` and `agora run` (the whole embedded platform)."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import typer

from agora.cli.common import console, sessions, settings
from registry import migrate
from registry.unit_of_work import change

__all__ = ["register"]

CREDENTIALS = Path("var") / "demo-credentials.json"


def admin(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8001, help="Port (Kong's admin port by default)"),
) -> None:
    """Serve the admin API."""
    import uvicorn

    uvicorn.run("registry.admin.app:create_app", factory=True, host=host, port=port, log_level="info")


def seed(
    port_offset: int = typer.Option(0, help="Shift the example upstreams' ports"),
    credentials: Path = typer.Option(CREDENTIALS, help="Where to keep the demo secrets (owner-only file)"),
) -> None:
    """Load the example agencies, their APIs, plans, a demo developer and a bootstrap admin token."""
    from examples.seed import save_credentials
    from examples.seed import seed as run_seed

    with change(sessions()) as session:
        created = run_seed(session, settings(), port_offset=port_offset)
    save_credentials(credentials, created)  # the accounts' sign-in emails, and any new secret
    if any(not name.endswith("_email") for name in created):
        console.print(f"example data loaded; new demo secrets saved to {credentials}")
    else:
        console.print("example data already present")


def _spawn(args: list[str], **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], env={**os.environ, **env})


def _allow_example_upstreams() -> None:
    """The example upstreams listen on loopback, which agencies may not reach: the embedded platform is
    the operator's own, so it names their host in AGORA_ALLOWED_UPSTREAM_HOSTS for itself and for the
    gateway it starts (which checks every address it connects to)."""
    from examples.catalog import EXAMPLE_HOST

    listed = [h.strip() for h in os.environ.get("AGORA_ALLOWED_UPSTREAM_HOSTS", "").split(",") if h.strip()]
    if EXAMPLE_HOST not in listed:
        os.environ["AGORA_ALLOWED_UPSTREAM_HOSTS"] = ",".join([*listed, EXAMPLE_HOST])
        settings.cache_clear()


def _start_citizen_identity(
    children: list[subprocess.Popen[bytes]], urls: dict[str, str], *, portal_url: str, port: int | None = None
) -> dict[str, str]:
    """Start the demo identity federation for citizens; returns the portal's settings for it.

    Left alone when the operator points the portal at a provider of their own, and skipped with one
    line saying why when node or its packages are missing: the rest of the platform runs without it.
    """
    from examples import citizens

    if os.environ.get("AGORA_CITIZEN_OIDC_ISSUER"):
        return {}
    reason = citizens.unavailable()
    if reason is not None:
        console.print(
            f"citizen sign-in (/my-data/) is off: the demo identity federation cannot start: {reason}"
        )
        return {}
    port = citizens.PORT if port is None else port
    # A new secret each run: the provider and the portal are both this run's children.
    secret = secrets.token_urlsafe(32)
    children.append(
        subprocess.Popen(
            citizens.command(port, portal_url),
            env={**os.environ, citizens.SECRET_ENV: secret},
        )
    )
    urls["identity"] = f"{citizens.issuer(port)} (demo citizens: examples/identity/)"
    return citizens.portal_env(secret, port)


def run(
    workers: int = typer.Option(1, help="Gateway worker processes"),
) -> None:
    """Migrate, load the examples, and serve upstreams, admin API, gateway and portal until interrupted."""
    _allow_example_upstreams()
    migrate.upgrade(settings().database_url)
    seed(port_offset=0, credentials=CREDENTIALS)
    # The gateway's workers write their metrics here; the admin's /metrics sums them (one host).
    metrics_dir = str(Path("var", "metrics", "gateway").resolve())
    children = [
        _spawn(["-m", "examples.upstreams.serve"]),
        _spawn(["-m", "agora", "admin"], AGORA_GATEWAY_METRICS_DIR=metrics_dir),
    ]
    urls = {"admin API": "http://127.0.0.1:8001/admin/openapi.json"}
    if importlib.util.find_spec("gateway.cli") is not None:
        gateway = ["-m", "agora", "gateway", "--workers", str(workers), "--metrics-port", "8100"]
        children.append(_spawn(gateway, PROMETHEUS_MULTIPROC_DIR=metrics_dir))
        urls["gateway"] = "http://127.0.0.1:8000"
        urls["metrics"] = "http://127.0.0.1:8100/metrics (gateway), :8001/metrics (admin)"
        urls["dashboard"] = "http://127.0.0.1:8001/admin/ui/"
    if importlib.util.find_spec("devportal.cli") is not None:
        citizen_sign_in = _start_citizen_identity(children, urls, portal_url=settings().portal_url)
        children.append(_spawn(["-m", "agora", "portal", "serve"], **citizen_sign_in))
        urls["portal"] = "http://127.0.0.1:8002"
        if citizen_sign_in:
            urls["my data"] = "http://127.0.0.1:8002/my-data/"
    console.print("[bold]Agora is running[/bold]")
    for name, url in urls.items():
        console.print(f"  {name:10} {url}")
    if CREDENTIALS.exists():
        console.print(
            f"  demo secrets: {CREDENTIALS} ({', '.join(sorted(json.loads(CREDENTIALS.read_text())))})"
        )

    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    if failed and not stopping:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("admin")(admin)
    app.command("seed")(seed)
    app.command("run")(run)
    if importlib.util.find_spec("gateway.cli") is not None:
        from gateway.cli import gateway

        app.command("gateway")(gateway)
