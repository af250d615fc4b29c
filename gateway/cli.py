"""`agora gateway`: serves the data plane (the engine: uvloop, httptools; N worker processes)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["gateway"]


def gateway(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; each polls the snapshot itself.")
    ] = 1,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Serve this compiled snapshot file instead of the database."
        ),
    ] = None,
    metrics_port: Annotated[
        int,
        typer.Option(envvar="AGORA_GATEWAY_METRICS_PORT", help="Prometheus metrics listener port; 0: none."),
    ] = 0,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics listener.")] = "127.0.0.1",
) -> None:
    """Serve every published API from the compiled snapshot (the database's newest, or --snapshot)."""
    from gateway.metrics_server import MULTIPROC_ENV, prepare_directory, serve_metrics
    from gateway.serve import run_worker

    if snapshot is not None:
        # Workers are separate processes that build the gateway from the environment.
        os.environ["AGORA_GATEWAY_SNAPSHOT"] = str(snapshot.resolve())
    logging.basicConfig(level=os.environ.get("AGORA_LOG_LEVEL", "warning").upper())
    # Every worker writes its metrics here; the listener (or the admin's /metrics) sums them.
    metrics_dir = Path(os.environ.get(MULTIPROC_ENV) or Path.cwd() / "var" / "metrics" / f"gateway-{port}")
    prepare_directory(metrics_dir)
    if metrics_port:
        serve_metrics(metrics_host, metrics_port, metrics_dir)
    if workers == 1:
        run_worker(host, port)
        return
    from gateway.engine.workers import run_workers

    run_workers(workers, host, port)
