"""The gateway's metrics listener: one small HTTP server in the `agora gateway` process (uvicorn's
supervisor when there are several workers) that sums every worker's multiprocess files on each scrape.

Not on the data-plane port on purpose: `/metrics` names every API and shows traffic, which is not for
the public surface of port 8000. It listens on `--metrics-host` (127.0.0.1 by default; 0.0.0.0 inside a
container, for Prometheus on the container network) and `--metrics-port`.

The directory is emptied when the gateway starts: files of a previous run would be summed into this
one's counters (prometheus-client's multiprocess mode requires a fresh directory per run).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MULTIPROC_ENV", "prepare_directory", "serve_metrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_directory(directory: Path) -> None:
    """Creates or empties the directory and points this process (and the workers it starts) at it.
    Must run before prometheus_client is imported: it picks its value class at import time."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)


def serve_metrics(host: str, port: int, directory: Path) -> None:
    """Starts the listener in a daemon thread of this process."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
