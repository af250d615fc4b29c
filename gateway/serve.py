"""One gateway worker: builds the gateway from the environment, serves it with the engine until SIGTERM or
SIGINT, then stops gracefully (no new connections; in-flight requests finish within the grace period;
plugins flush what they buffer).

    AGORA_GATEWAY_SHUTDOWN_GRACE   seconds in-flight requests get on a stop (default 10)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

import uvloop

from .app import create_app
from .engine.limits import Limits
from .engine.server import serve

__all__ = ["run_worker", "serve_until_stopped"]

log = logging.getLogger("agora.gateway")


def _grace() -> float:
    try:
        return max(0.0, float(os.environ.get("AGORA_GATEWAY_SHUTDOWN_GRACE") or 10.0))
    except ValueError:
        return 10.0


async def serve_until_stopped(
    host: str, port: int, *, sock: socket.socket | None = None, reuse_port: bool = False
) -> None:
    gateway = create_app()
    await gateway.startup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    server = await serve(gateway, host, port, limits=Limits.from_env(), sock=sock, reuse_port=reuse_port)
    try:
        await stopping.wait()
    finally:
        await server.close(_grace())
        await gateway.shutdown()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)


def run_worker(host: str, port: int, *, sock: socket.socket | None = None, reuse_port: bool = False) -> None:
    """Runs one worker in this process until it is told to stop."""
    uvloop.run(serve_until_stopped(host, port, sock=sock, reuse_port=reuse_port))
