"""The recorder's batching, on an in-memory store (the backends have their own tests): interval and
batch-size flushes, a final flush on close, retries, the memory bound, unique ids."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from plugins.usage_metering.record import Usage, to_row
from plugins.usage_metering.recorder import Recorder, recorder_for, shutdown


class MemoryStore:
    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failures = failures
        self.closed = False
        self.lock = threading.Lock()

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("store down")
            self.batches.append(list(rows))

    def close(self) -> None:
        self.closed = True

    def rows(self) -> list[dict[str, Any]]:
        with self.lock:
            return [row for batch in self.batches for row in batch]


def usage(recorder: Recorder, status: int = 200, ip: str = "198.51.100.23") -> Usage:
    return Usage(
        next(recorder.seq), 1_700_000_000.5, "gov", "api", "1.0.0", "getItem", "app", "cred",
        status, 3.25, 1.5, 10, 20, ip,
    )  # fmt: skip


def wait_until(predicate: Any, timeout: float = 5.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.01)
    return time.monotonic() - started


def test_records_are_written_within_one_interval() -> None:
    store = MemoryStore()
    recorder = Recorder(store, flush_interval=0.2, batch_size=1000, max_pending=10_000)
    try:
        for _ in range(5):
            recorder.add(usage(recorder))
        waited = wait_until(lambda: len(store.rows()) == 5)
        assert waited < 0.2 + 0.3
        assert len(store.batches) == 1  # one write for the interval, not one per record
    finally:
        recorder.close()


def test_a_full_batch_is_written_before_the_interval_ends() -> None:
    store = MemoryStore()
    recorder = Recorder(store, flush_interval=30, batch_size=50, max_pending=10_000)
    try:
        for _ in range(120):
            recorder.add(usage(recorder))
        # The promise: fewer than one batch waits for the interval. How many more were written depends
        # on how the flusher's drain interleaves with these appends, so only that bound is checked.
        wait_until(lambda: len(store.rows()) >= 120 - 49, timeout=10)  # far below the 30 s interval
        assert all(len(batch) <= 50 for batch in store.batches)
    finally:
        recorder.close()
    assert len(store.rows()) == 120 and store.closed  # close wrote the rest


def test_close_writes_everything_pending() -> None:
    store = MemoryStore()
    recorder = Recorder(store, flush_interval=30, batch_size=10_000, max_pending=100_000)
    for _ in range(2500):
        recorder.add(usage(recorder))
    recorder.close()
    rows = store.rows()
    assert len(rows) == 2500 and len({r["request_id"] for r in rows}) == 2500
    assert recorder.written == 2500 and recorder.pending() == 0


def test_a_failed_write_is_retried_and_stored_once() -> None:
    store = MemoryStore(failures=2)
    recorder = Recorder(store, flush_interval=0.05, batch_size=100, max_pending=10_000)
    try:
        for _ in range(30):
            recorder.add(usage(recorder))
        wait_until(lambda: len(store.rows()) == 30)
    finally:
        recorder.close()
    assert len({r["request_id"] for r in store.rows()}) == 30


def test_pending_records_are_bounded_while_the_store_is_down() -> None:
    store = MemoryStore(failures=10**9)
    recorder = Recorder(store, flush_interval=30, batch_size=10, max_pending=100)
    for _ in range(1000):
        recorder.add(usage(recorder))
    assert recorder.pending() <= 100 + 10 and recorder.dropped >= 890
    recorder.close(timeout=5)


def test_rows_carry_no_full_address_and_a_status() -> None:
    store = MemoryStore()
    recorder = Recorder(store, flush_interval=30, batch_size=10, max_pending=100)
    recorder.add(usage(recorder, status=0, ip="2001:db8:1:2::9"))
    recorder.close()
    [row] = store.rows()
    assert row["client_ip"] == "2001:db8:1::/48"
    assert row["status"] == 499  # the client left before the response started
    assert row["request_id"].startswith(recorder.id_prefix + "-")
    assert set(row) == {
        "request_id", "at", "agency", "api", "version", "operation_id", "application_id", "credential_id",
        "status", "latency_ms", "upstream_latency_ms", "bytes_in", "bytes_out", "client_ip",
    }  # fmt: skip


def test_ids_differ_between_recorders() -> None:
    one = to_row(Usage(0, 0.0, "g", "a", "1", None, None, None, 200, 1.0, None, 0, 0, "::1"), "aaaa")
    two = to_row(Usage(0, 0.0, "g", "a", "1", None, None, None, 200, 1.0, None, 0, 0, "::1"), "bbbb")
    assert one["request_id"] != two["request_id"]


def test_recorders_are_shared_by_key_and_replaced_after_shutdown() -> None:
    made: list[Recorder] = []

    def make() -> Recorder:
        made.append(Recorder(MemoryStore(), flush_interval=30, batch_size=10, max_pending=10))
        return made[-1]

    first = recorder_for(("memory", 1), make)
    assert recorder_for(("memory", 1), make) is first
    shutdown()
    assert first.closed and first.store.closed  # type: ignore[attr-defined]
    second = recorder_for(("memory", 1), make)
    assert second is not first and not second.closed
    shutdown()


def _nice(thread: int) -> int:
    # /proc/<pid>/task/<tid>/stat: the 19th field is the nice value (after the command in parentheses)
    fields = Path(f"/proc/self/task/{thread}/stat").read_text().rpartition(")")[2].split()
    return int(fields[16])


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
def test_the_flusher_runs_at_a_lower_priority_than_the_event_loop() -> None:
    recorder = Recorder(MemoryStore(), flush_interval=0.05, batch_size=10, max_pending=100)
    try:
        recorder.add(usage(recorder))
        deadline = time.monotonic() + 5
        while recorder.written < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        flusher = recorder._thread.native_id
        assert flusher is not None
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert _nice(flusher) == min(19, own + 10)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # the caller's untouched
    finally:
        recorder.close()


def test_a_batch_being_written_still_counts_as_pending() -> None:
    """`pending()` is exact at any moment: a batch the flusher holds (writing, or between a failed write
    and its retry) is neither lost from the count nor counted twice."""
    entered, release = threading.Event(), threading.Event()

    class SlowStore(MemoryStore):
        def write(self, rows: Sequence[dict[str, Any]]) -> None:
            entered.set()
            release.wait(5)
            super().write(rows)

    store = SlowStore(failures=1)
    recorder = Recorder(store, flush_interval=0.02, batch_size=10, max_pending=100)
    try:
        for _ in range(5):
            recorder.add(usage(recorder))
        assert entered.wait(5)
        assert recorder.pending() == 5 and recorder.written == 0  # in the store's hands
        recorder.add(usage(recorder))
        assert recorder.pending() == 6
        release.set()  # the first write fails (kept), the retry writes them
        deadline = time.monotonic() + 5
        while recorder.written < 6 and time.monotonic() < deadline:
            assert recorder.pending() + recorder.written == 6
            time.sleep(0.001)
        assert recorder.written == 6 and recorder.pending() == 0
    finally:
        release.set()
        recorder.close()
