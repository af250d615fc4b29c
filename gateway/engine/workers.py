"""`run_workers`: N worker processes serving one port, and the supervisor that keeps them running.

    parent  binds the listening socket once, starts `count` workers that inherit it, turns SIGTERM
            and SIGINT into one SIGTERM per worker, restarts a worker that exits unexpectedly (after
            a backoff, logged), and returns once every worker has exited after a stop.
    worker  `worker(ctx)` serves on `ctx.sock` until `await ctx.stopped()` returns, then stops
            accepting, finishes its in-flight requests within `ctx.grace` seconds, and returns.

One socket bound by the parent, rather than one SO_REUSEPORT socket per worker, chosen by measurement
(2 workers, the tiny server of tests/gateway/engine/worker_bodies.py, 8 clients opening a connection
per request, this 2-core machine under load):
- spread: equal enough either way: the busier worker took 50-62% with the inherited socket, 52-54%
  with SO_REUSEPORT sockets (the kernel hashes each connection to one socket);
- a worker killed under load: with the inherited socket the survivor drains the one queue, worst
  request 0.04-0.07 s; with per-worker sockets (kept open by the parent) the connections hashed to
  the dead worker's socket wait for its successor: worst 0.72-0.82 s (a worker binding its own
  socket would take that queue with it: reset). The dead worker's accepted connections are reset
  in both (0-8 here);
- simpler and safer: one bind, whose "address in use" fails `agora gateway` before any worker
  starts, while SO_REUSEPORT would let a second gateway of the same user join the port silently and
  take half its traffic.
Each accept wakes every idle worker (no EPOLLEXCLUSIVE from asyncio); with a handful of workers and
keep-alive clients that costs little.

Why `spawn`: a worker starts as a fresh interpreter that builds the gateway from the environment and
settings, as `agora gateway` with one worker does. Forking would copy the parent's threads' state (the
metrics listener's thread runs in the parent; a lock it held at the fork stays held in the child) and
whatever the parent imported or opened; uvicorn's workers are spawned for the same reasons. It costs
the interpreter's start-up per worker (well under a second), once, and per restart.

A worker learns that its parent is gone (killed without a chance to stop it) from a pipe whose write
end only the parent holds: `stopped()` returns then too, so no worker outlives its supervisor.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType

from agora.errors import Conflict, InvalidInput

__all__ = ["Worker", "WorkerContext", "run_workers"]

log = logging.getLogger("agora.gateway.workers")

BACKLOG = 1024
RESTART_DELAY = 0.5  # seconds before the first restart of a slot; doubled per quick failure
RESTART_DELAY_MAX = 30.0
STABLE_AFTER = 30.0  # a worker that lived this long starts its slot's backoff over
KILL_AFTER_GRACE = 5.0  # a stopping worker still alive this long after its grace is killed


@dataclass(frozen=True)
class WorkerContext:
    """What a worker gets: its slot, its listening socket, the stop grace, and the parent's pipe."""

    index: int  # the slot, 0..count-1; a restarted worker gets its predecessor's
    sock: socket.socket  # listening; every worker has the same one
    grace: float  # seconds to finish in-flight requests once stopped
    parent: Connection  # EOF when the parent is gone

    async def stopped(self) -> None:
        """Returns on SIGTERM (the parent's stop), or when the parent is gone. A second SIGTERM
        after that kills the worker at once (the default action is restored)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def stop() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_signal_handler(signal.SIGTERM, stop)
        loop.add_reader(self.parent.fileno(), stop)
        try:
            await done
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            loop.remove_reader(self.parent.fileno())


Worker = Callable[[WorkerContext], None]


def _worker_main(worker: Worker, context: WorkerContext) -> None:
    # Ctrl-C reaches the whole process group: the parent turns it into one SIGTERM per worker, so a
    # worker's stop has one path whether it came from a terminal or from a service manager.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker(context)


@dataclass
class _Slot:
    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    failures: int = 0  # quick failures in a row: the backoff's exponent
    restart_at: float | None = None


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (port 0: one the kernel picks)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(f"gateway: cannot listen on {host}:{port}: {reason}") from None
        raise InvalidInput(f"gateway: cannot listen on {host}:{port}: {reason}") from None


def run_workers(
    count: int,
    host: str,
    port: int,
    worker: Worker,
    *,
    grace: float,
    on_exit: Callable[[int], None] | None = None,
) -> None:
    """Serves `host:port` with `count` worker processes until SIGTERM or SIGINT, then stops them
    gracefully. `worker` must be picklable (a module-level function): each worker is spawned.
    `on_exit(pid)` runs in this process after each worker's exit, expected or not (e.g. to drop a
    killed worker's live metrics)."""
    if count < 1:
        raise InvalidInput(f"gateway: workers must be at least 1, not {count}")
    sock = bind_socket(host, port)
    log.info("serving %s:%d with %d workers", host, sock.getsockname()[1], count)
    spawn = multiprocessing.get_context("spawn")
    # Workers get the read end; only this process holds the write end: EOF for them once it is gone.
    parent_read, parent_write = spawn.Pipe(duplex=False)
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous_wakeup = signal.set_wakeup_fd(wake_write.fileno())
    slots = [_Slot(index) for index in range(count)]

    def exited(pid: int) -> None:
        if on_exit is not None:
            try:
                on_exit(pid)
            except Exception:  # a hook's failure must not take the supervisor down
                log.exception("on_exit failed for worker pid %d", pid)

    def start(slot: _Slot) -> None:
        context = WorkerContext(slot.index, sock, grace, parent_read)
        process = spawn.Process(
            target=_worker_main, args=(worker, context), name=f"agora-gateway-worker-{slot.index}"
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None

    try:
        for slot in slots:
            start(slot)
        while not received:
            _supervise(slots, wake_read, start, exited)
        _stop(slots, sock, wake_read, received, grace)
        for slot in slots:
            if slot.process is not None and slot.process.pid is not None:
                exited(slot.process.pid)
    finally:
        for slot in slots:  # only after a failure of the supervisor itself: none left otherwise
            if slot.process is not None and slot.process.exitcode is None:
                slot.process.kill()
                slot.process.join()
        signal.set_wakeup_fd(previous_wakeup)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        sock.close()
        for end in (parent_read, parent_write):
            end.close()
        wake_read.close()
        wake_write.close()


def _supervise(
    slots: list[_Slot], wake: socket.socket, start: Callable[[_Slot], None], exited: Callable[[int], None]
) -> None:
    """One turn: wait for a worker's exit, a signal or the next restart; restart what is due."""
    now = time.monotonic()
    due = [slot.restart_at for slot in slots if slot.restart_at is not None]
    timeout = max(0.0, min(due) - now) if due else None
    live = [slot.process.sentinel for slot in slots if slot.process is not None]
    wait([wake, *live], timeout)
    _drain(wake)
    now = time.monotonic()
    for slot in slots:
        process = slot.process
        if process is not None and process.exitcode is not None:
            process.join()
            slot.process = None
            if process.pid is not None:
                exited(process.pid)
            lived = now - slot.started
            slot.failures = 1 if lived >= STABLE_AFTER else slot.failures + 1
            delay = min(RESTART_DELAY_MAX, RESTART_DELAY * 2 ** (slot.failures - 1))
            slot.restart_at = now + delay
            log.error(
                "worker %d (pid %s) exited unexpectedly (%s) after %.1f s; restarting it in %.1f s",
                slot.index,
                process.pid,
                _describe(process.exitcode),
                lived,
                delay,
            )
        elif slot.process is None and slot.restart_at is not None and slot.restart_at <= now:
            start(slot)
            log.warning("worker %d restarted (pid %s)", slot.index, slot.process and slot.process.pid)


def _stop(
    slots: list[_Slot], sock: socket.socket, wake: socket.socket, received: list[int], grace: float
) -> None:
    """Closes the parent's copy of the listening socket (new connections are refused once the workers
    have closed theirs), sends every worker SIGTERM, and again on each further signal; kills what is
    left after `grace` plus a margin."""
    sock.close()
    log.info("stopping %d workers (signal %d), grace %.1f s", len(slots), received[0], grace)
    forwarded = 0
    deadline = time.monotonic() + grace + KILL_AFTER_GRACE
    while True:
        live = [slot.process for slot in slots if slot.process is not None and slot.process.exitcode is None]
        if not live:
            break
        if forwarded < len(received):
            forwarded = len(received)
            for process in live:
                process.terminate()  # SIGTERM
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            for process in live:
                log.error("worker pid %s did not stop within its grace; killed", process.pid)
                process.kill()
                process.join()
            break
        wait([wake, *(process.sentinel for process in live)], remaining)
        _drain(wake)
    for slot in slots:
        if slot.process is not None:
            slot.process.join()


def _drain(wake: socket.socket) -> None:
    try:
        while wake.recv(512):
            pass
    except BlockingIOError:
        pass


def _describe(exitcode: int) -> str:
    if exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"
