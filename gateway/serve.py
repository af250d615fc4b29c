"""A gateway worker: builds the gateway from the environment, serves it with the engine until it is told
to stop, then stops gracefully (no new connections; in-flight requests finish within the grace period;
plugins flush what they buffer).

    AGORA_GATEWAY_SHUTDOWN_GRACE   seconds in-flight requests get on a stop (default 10)

One worker (`agora gateway`) stops on SIGTERM or SIGINT; with `--workers N` each worker stops when the
supervisor (engine/workers.py) tells it to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable

import uvloop

from gateway.app import create_app
from gateway.engine.limits import Limits
from gateway.engine.server import serve
from gateway.engine.workers import WorkerContext

__all__ = ["run_worker", "serve_until_stopped", "serve_worker", "shutdown_grace"]

log = logging.getLogger("agora.gateway")


def shutdown_grace() -> float:
    try:
        return max(0.0, float(os.environ.get("AGORA_GATEWAY_SHUTDOWN_GRACE") or 10.0))
    except ValueError:
        return 10.0


async def _signalled() -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)


async def serve_until_stopped(
    host: str,
    port: int,
    *,
    stopped: Callable[[], Awaitable[None]] = _signalled,
    sock: socket.socket | None = None,
    grace: float | None = None,
) -> None:
    gateway = create_app()
    await gateway.startup()
    try:
        server = await serve(gateway, host, port, limits=Limits.from_env(), sock=sock)
        try:
            await stopped()
        finally:
            await server.close(shutdown_grace() if grace is None else grace)
    finally:
        await gateway.shutdown()


def run_worker(host: str, port: int) -> None:
    """One worker in this process, until SIGTERM or SIGINT."""
    uvloop.run(serve_until_stopped(host, port))


def serve_worker(context: WorkerContext) -> None:
    """The body of each of `--workers N` (spawned: it builds its gateway from the environment)."""
    logging.basicConfig(level=os.environ.get("AGORA_LOG_LEVEL", "warning").upper())
    uvloop.run(serve_until_stopped("", 0, stopped=context.stopped, sock=context.sock, grace=context.grace))
