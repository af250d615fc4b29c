"""`agora portal build` and `agora portal serve`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

__all__ = ["DEFAULT_OUT", "app"]

DEFAULT_OUT = Path("var") / "portal"

app = typer.Typer(
    help="The developer portal: build the site, serve it with the account pages.", no_args_is_help=True
)


@app.command("build")
def build(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Build directory (src/ and site/ are made inside)"),
    force: bool = typer.Option(False, "--force", help="Run mkdocs even when no page changed"),
) -> None:
    """Generate the portal from the registry; only pages whose inputs changed are rewritten."""
    from agora.cli.common import console, sessions, settings
    from devportal.build import build_portal
    from registry.unit_of_work import read

    with read(sessions()) as session:
        result = build_portal(
            session,
            out=out,
            gateway_url=settings().gateway_url,
            portal_url=settings().portal_url,
            force=force,
        )
    console.print(
        f"portal: {len(result.sync.written)} files written, {result.sync.unchanged} unchanged, "
        f"{len(result.sync.removed)} removed; site {'rebuilt' if result.html_rebuilt else 'unchanged'} "
        f"in {result.seconds:.1f}s -> {result.site}"
    )


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8002, help="Port (Kong's portal port by default)"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Build directory"),
) -> None:
    """Serve the portal: the site (rebuilt when the registry changes) and the account pages."""
    import uvicorn

    from devportal.web.app import PORTAL_DIR_ENV

    os.environ[PORTAL_DIR_ENV] = str(out.resolve())
    uvicorn.run(
        "devportal.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=os.environ.get("AGORA_LOG_LEVEL", "info").lower(),
        server_header=False,
        proxy_headers=False,
    )
