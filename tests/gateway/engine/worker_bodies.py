"""A tiny asyncio HTTP server as a worker body for `run_workers` (the real engine plugs in the same
way), and `python -m tests.gateway.engine.worker_bodies PORT COUNT GRACE [node]` to supervise it
(`node`: through `agora gateway`'s `serve_workers`, with the node's shared counters).

Each answer's body is the worker's pid; `/slow` answers after SLOW seconds (an in-flight request
that a graceful stop must let finish); `/count` adds " allowed" or " refused": one check of the local
rate-limiting policy against COUNTED (LIMIT per minute)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from gateway.cli import serve_workers
from gateway.engine.workers import WorkerContext, run_workers
from plugins.rate_limiting.policies import Counter

SLOW = 2.0
LIMIT = 10
COUNTED = Counter("agora:rl:svc:consumer:c1:minute:1700000040", None, LIMIT, 0.0, 65)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1]
        if path == b"/slow":
            await asyncio.sleep(SLOW)
        body = str(os.getpid()).encode()
        if path == b"/count":
            from plugins.rate_limiting.policies.local import LOCAL

            body += b" allowed" if LOCAL.check([COUNTED]).allowed else b" refused"
        writer.write(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def pid_server(context: WorkerContext) -> None:
    async def main() -> None:
        in_flight: set[asyncio.Task[None]] = set()

        async def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            in_flight.add(task)
            try:
                await _answer(reader, writer)
            finally:
                in_flight.discard(task)

        server = await asyncio.start_server(track, sock=context.sock)
        await context.stopped()
        server.close()  # stop accepting; connections already accepted go on
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=context.grace)

    asyncio.run(main())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    port, count, grace = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    if sys.argv[4:] == ["node"]:
        serve_workers(count, "127.0.0.1", port, pid_server, grace=grace)
    else:
        log = logging.getLogger("worker_bodies")
        run_workers(
            count, "127.0.0.1", port, pid_server, grace=grace, on_exit=lambda pid: log.info("exit %d", pid)
        )
