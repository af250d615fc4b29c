"""`agora gateway`: serves the data plane (the engine: uvloop, httptools; N worker processes)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

__all__ = ["gateway", "serve_workers"]

if TYPE_CHECKING:
    from gateway.engine.workers import Worker


def serve_workers(count: int, host: str, port: int, worker: Worker, *, grace: float) -> None:
    """`agora gateway --workers N` (N > 1) on the engine: `worker` is the engine's worker body.

    Creates the node's shared rate-limiting counters before any worker starts and names them in
    AGORA_GATEWAY_SHARED_COUNTERS, which the spawned workers inherit: their local policy then counts
    in one table, so the node allows a plan's limit, not N times it. Removes the table once every
    worker has exited."""
    from gateway.engine.workers import run_workers
    from plugins.rate_limiting.policies.shared import ENV, SharedCounters

    counters = SharedCounters.create()
    os.environ[ENV] = str(counters.path)
    try:
        run_workers(count, host, port, worker, grace=grace, on_exit=_forget_live_metrics)
    finally:
        os.environ.pop(ENV, None)
        counters.unlink()


def _forget_live_metrics(pid: int) -> None:
    """A worker that was killed could not drop its live gauges from the metrics sums itself."""
    from gateway.metrics.server import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid)  # type: ignore[no-untyped-call]


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
    from gateway.metrics.server import MULTIPROC_ENV, prepare_directory, serve_metrics
    from gateway.serve import run_worker, serve_worker, shutdown_grace

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
    serve_workers(workers, host, port, serve_worker, grace=shutdown_grace())
