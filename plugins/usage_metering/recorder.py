"""The recorder: pending usage records and the thread that writes them, one per store and settings.

Records are small tuples; the recorder's `to_row` (usage's by default) turns each into the row a store
writes. personal-data-log (plugins/personal_data_log/) reuses it with its own.

The request path appends to a deque (thread-safe, O(1), no lock, no I/O). With `early` (usage
metering's choice) and a store that can encode rows ahead (backends: `Encoding`, the database), what it
appends is the row ready for the driver, made there and then (a few microseconds): the worker's one
core pays for it request by request, and the flusher's work is the database's alone. Made by the
flusher instead, a busy second's rows were one burst of Python, which held the GIL and the core from
the event loop for milliseconds: the full chain's p99 was 3.2x its p50, 2.4x when made early, for
about 3 us more per request on the loop (docs/benchmarks.md, "Ninth round"). Otherwise
(personal-data-log, whose `to_row` computes an HMAC; the http store) the record itself is appended and
becomes a row in the flusher.

A flusher thread wakes every `flush_interval`, or earlier when `batch_size` records are pending, and
writes everything pending in batches of `batch_size`. So a record waits at most one interval (plus the
write before it): that is all a crash (SIGKILL) can lose. A graceful stop (`shutdown()`, called by the
gateway after the last request) writes everything left.

The flusher runs at a lower priority than the event loop (`_FLUSHER_NICE` more, on Linux): on a
saturated core, the kernel then runs its writes in the loop's idle moments rather than preempting a
request for a scheduler slice (milliseconds) each time a batch is due. Measured on the full chain
(one pinned worker, wrk -c32, alternated): p99/p50 1.81 -> 1.61x, the same CPU per request; at -c256 it
still wrote every record within the run. Nice 19 (1.5% of the core when both want it) fell behind at
-c256; SCHED_IDLE starved it and dropped records; 10 leaves it about a tenth of a saturated core, more
than its inserts take (docs/benchmarks.md, "Tenth round").

A batch whose write fails is kept and retried at the next interval; meanwhile new records wait in the
deque, of which at most `max_pending` are kept (the oldest dropped, and counted) so that an outage of
the store cannot exhaust memory.

Recorders are shared process-wide by key: plugin instances are rebuilt on every snapshot reload, the
pending records and the thread must survive that.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from agora.errors import InvalidInput
from plugins.usage_metering.backends import Encoding, UsageStore
from plugins.usage_metering.record import to_row as usage_row

__all__ = ["Recorder", "RowOf", "batching", "recorder_for", "shutdown"]

# (record, the recorder's id prefix) -> the row a store writes; runs in the flusher thread.
RowOf = Callable[[Any, str], dict[str, Any]]

log = logging.getLogger("agora.plugins.usage_metering")

_FLUSHER_NICE = 10  # added to the process's nice value for the flusher thread (see above)


def _yield_to_requests() -> None:
    """Lowers the calling thread's scheduling priority. Only on Linux, where the nice value is the
    thread's own (setpriority(2)); elsewhere it would slow the whole process."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        lower = min(19, os.getpriority(os.PRIO_PROCESS, thread) + _FLUSHER_NICE)
        os.setpriority(os.PRIO_PROCESS, thread, lower)
    except OSError as exc:  # a sandbox that forbids it: the flusher runs at the loop's priority
        log.info("usage flusher keeps its priority (%s)", exc)


class Recorder:
    def __init__(
        self,
        store: UsageStore,
        *,
        flush_interval: float,
        batch_size: int,
        max_pending: int,
        name: str = "",
        to_row: RowOf = usage_row,
        kind: str = "usage",
        thread: str = "usage-metering",
        early: bool = False,
    ) -> None:
        # kind: what the records are, for the log lines; thread: the flusher's name, `name` appended;
        # early: rows made as records are added, when the store can encode them (see above)
        self.store, self.to_row, self.kind = store, to_row, kind
        self.early: Encoding | None = None
        if early and isinstance(store, Encoding):
            try:
                store.prepare()
                self.early = store
            except Exception as exc:  # a store that cannot be used: the flusher's writes will say so
                log.warning("%s store cannot make rows ahead (%s: %s); its flusher will",
                            kind, type(exc).__name__, exc)  # fmt: skip
        self.flush_interval, self.batch_size, self.max_pending = flush_interval, batch_size, max_pending
        self.id_prefix = secrets.token_hex(8)  # per recorder, so ids never collide across workers
        self.seq = itertools.count()  # `next()` is atomic under the GIL
        self.written = self.dropped = 0
        self.closed = False
        self._pending: deque[tuple[Any, ...]] = deque()
        self._failed: list[tuple[Any, ...]] = []  # the batch whose write failed, retried first
        self._writing: list[tuple[Any, ...]] = []  # the batch being written (counted as pending)
        self._batch_lock = threading.Lock()  # a batch moves between the three lists under it
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"{thread}{name}", daemon=True)
        self._thread.start()

    def add(self, record: tuple[Any, ...]) -> None:
        """On the event loop, after the response: one append, a wake-up when a batch is full."""
        pending = self._pending
        early = self.early
        pending.append(record if early is None else early.encode(self.to_row(record, self.id_prefix)))
        if len(pending) >= self.batch_size and not self._wake.is_set():
            self._wake.set()
        if len(pending) > self.max_pending:
            try:
                pending.popleft()
                self.dropped += 1
            except IndexError:  # the flusher emptied it meanwhile
                pass

    def pending(self) -> int:
        """Records not yet written: waiting, being written, or kept after a failed write."""
        with self._batch_lock:
            return len(self._pending) + len(self._writing) + len(self._failed)

    def close(self, timeout: float = 30.0) -> None:
        """Writes what is pending and stops the thread (blocking: call it from a thread)."""
        if self.closed:
            return
        self.closed = True
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        left = self.pending()
        if left or self.dropped:
            log.error(
                "%s recorder stopped with %d records unwritten, %d dropped", self.kind, left, self.dropped
            )
        self.store.close()

    def _run(self) -> None:
        _yield_to_requests()
        deadline = time.monotonic() + self.flush_interval
        while True:
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            deadline = time.monotonic() + self.flush_interval
            stopping = self._stopping
            self._drain()
            if stopping:
                return

    def _take(self) -> list[tuple[Any, ...]]:
        batch: list[tuple[Any, ...]] = []
        pending = self._pending
        try:
            while len(batch) < self.batch_size:
                batch.append(pending.popleft())
        except IndexError:
            pass
        return batch

    def _drain(self) -> None:
        while True:
            with self._batch_lock:  # never out of every list, so `pending()` counts it at any moment
                batch, self._failed = self._failed or self._take(), []
                self._writing = batch
            if not batch:
                return
            try:
                if self.early is not None:
                    self.early.write_encoded(batch)
                else:
                    to_row, prefix = self.to_row, self.id_prefix
                    self.store.write([to_row(record, prefix) for record in batch])
            except Exception as exc:
                with self._batch_lock:
                    self._failed, self._writing = batch, []
                # One short line per interval: SQLAlchemy's message would carry the whole statement.
                reason = (str(exc).splitlines() or [""])[0][:300]
                log.warning("%s store write failed (%d records kept for retry): %s: %s",
                            self.kind, len(batch), type(exc).__name__, reason)  # fmt: skip
                return
            with self._batch_lock:
                self.written += len(batch)
                self._writing = []


_recorders: dict[tuple[Any, ...], Recorder] = {}
_lock = threading.Lock()


def batching(plugin: str, config: dict[str, Any]) -> tuple[float, int, int]:
    """A recorder's settings from its plugin's config, checked: flush_interval, batch_size, max_pending."""
    interval, batch, most = float(config["flush_interval"]), config["batch_size"], config["max_pending"]
    if interval <= 0:
        raise InvalidInput(f"{plugin}: flush_interval must be more than 0 seconds")
    if batch < 1 or most < 1:
        raise InvalidInput(f"{plugin}: batch_size and max_pending must be at least 1")
    return interval, batch, most


def recorder_for(key: tuple[Any, ...], make: Callable[[], Recorder]) -> Recorder:
    """The live recorder for `key` (backend, target and settings), created once per process."""
    with _lock:
        recorder = _recorders.get(key)
        if recorder is None or recorder.closed:
            recorder = _recorders[key] = make()
        return recorder


def shutdown() -> None:
    """Flushes and stops every recorder; the gateway calls it on a graceful stop."""
    with _lock:
        recorders = list(_recorders.values())
        _recorders.clear()
    for recorder in recorders:
        recorder.close()
