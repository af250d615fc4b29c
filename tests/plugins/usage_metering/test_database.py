"""The `database` backend on SQLite and on the real PostgreSQL: batches land in `usage_records`,
a retried batch is stored once, and a recorder over it loses nothing on close."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker

from plugins.usage_metering.backends.database import _ROWS_PER_STATEMENT, DatabaseStore, _sqlite_instant
from plugins.usage_metering.record import Usage, to_row
from plugins.usage_metering.recorder import Recorder
from registry import migrate
from registry.models import UsageRecord


def rows(count: int, prefix: str = "p") -> list[dict[str, object]]:
    made = []
    for seq in range(count):
        usage = Usage(
            seq, 1_700_000_000.5 + seq, "cadastre", "addresses", "1.2.0", "getAddress", "app-1", "cred-1",
            200, 4.5, 3.0, 0, 100 + seq, "203.0.113.77",
        )  # fmt: skip
        made.append(to_row(usage, prefix))
    return made


def stored(sessions: sessionmaker[Session]) -> list[UsageRecord]:
    with sessions() as session:
        return list(session.scalars(select(UsageRecord).order_by(UsageRecord.at)))


def test_batches_are_inserted_once(database_url: str, sessions: sessionmaker[Session]) -> None:
    store = DatabaseStore(database_url)
    batch = rows(3)
    store.write(batch)
    store.write(batch)  # as after a commit whose answer was lost
    store.close()
    got = stored(sessions)
    assert [r.request_id for r in got] == ["p-0", "p-1", "p-2"]
    first = got[0]
    assert first.at == datetime.fromtimestamp(1_700_000_000.5, UTC)
    assert (first.agency, first.api, first.version, first.operation_id) == (
        "cadastre", "addresses", "1.2.0", "getAddress",
    )  # fmt: skip
    assert (first.application_id, first.credential_id, first.status) == ("app-1", "cred-1", 200)
    assert (first.latency_ms, first.upstream_latency_ms, first.bytes_in, first.bytes_out) == (
        4.5,
        3.0,
        0,
        100,
    )
    assert first.client_ip == "203.0.113.0/24"


def test_a_batch_longer_than_one_statement_lands_whole(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    store = DatabaseStore(database_url)
    store.write(rows(_ROWS_PER_STATEMENT * 2 + 7))
    store.close()
    assert len(stored(sessions)) == _ROWS_PER_STATEMENT * 2 + 7


def test_sqlite_keeps_the_statement_journal_in_memory(tmp_path: Path) -> None:
    # On disk, SQLite created, wrote and deleted a temporary file for every statement of many rows.
    url = f"sqlite:///{tmp_path / 'usage.db'}"
    migrate.upgrade(url)
    store = DatabaseStore(url)
    store.write(rows(3))
    assert store._engine is not None
    with store._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.close()


@pytest.mark.parametrize("early", [False, True], ids=["rows-in-the-flusher", "rows-made-early"])
def test_a_recorder_over_the_database_writes_every_record(
    database_url: str, sessions: sessionmaker[Session], early: bool
) -> None:
    recorder = Recorder(
        DatabaseStore(database_url), flush_interval=30, batch_size=10_000, max_pending=10_000, early=early
    )
    for seq in range(1000):
        at = 1_700_000_000.25 + seq
        recorder.add(
            Usage(
                next(recorder.seq), at, "g", "a", "1", "op", "app", "cred", 200, 1.5, 0.5, 3, 9, "192.0.2.77"
            )
        )
    pending = list(recorder._pending)
    # Early, the deque holds what the driver takes (the address already truncated), not the record.
    assert all(isinstance(p, Usage) != early for p in pending)
    if early:
        assert "192.0.2.0/24" in pending[0] and "192.0.2.7" not in pending[0]
    recorder.close()
    got = stored(sessions)
    assert len(got) == 1000 and len({r.request_id for r in got}) == 1000
    assert recorder.written == 1000 and recorder.dropped == 0
    first = got[0]
    assert first.request_id == f"{recorder.id_prefix}-0"
    assert first.at == datetime.fromtimestamp(1_700_000_000.25, UTC)
    assert (first.agency, first.api, first.version, first.operation_id) == ("g", "a", "1", "op")
    assert (first.application_id, first.credential_id, first.status, first.client_ip) == (
        "app", "cred", 200, "192.0.2.0/24",
    )  # fmt: skip
    assert (first.latency_ms, first.upstream_latency_ms, first.bytes_in, first.bytes_out) == (1.5, 0.5, 3, 9)


def test_the_flusher_keeps_up_while_the_event_loop_thread_never_rests(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    """A saturated worker never releases the GIL of its own accord. With SQLite's driver releasing it
    around every row of an executemany, the flusher waited a switch interval (5 ms) per row: 200 rows a
    second, and records dropped past `max_pending`. Here this thread adds 3,000 records and keeps computing
    (never sleeping) until they are stored or 10 s have passed; the fix stores them in well under a second."""
    recorder = Recorder(
        DatabaseStore(database_url), flush_interval=0.1, batch_size=100, max_pending=100_000, early=True
    )
    try:
        for _ in range(3000):
            recorder.add(
                Usage(next(recorder.seq), 1.0, "g", "a", "1", None, None, None, 200, 1.0, None, 0, 0, "::1")
            )
        deadline = time.monotonic() + 10
        busy = 0
        while recorder.written < 3000 and time.monotonic() < deadline:
            busy += sum(range(200))  # pure Python: the GIL is only ever taken from this thread by force
        assert recorder.written == 3000 and recorder.dropped == 0, recorder.written
    finally:
        recorder.close()
    assert len(stored(sessions)) == 3000


def test_the_sqlite_timestamp_is_the_text_sqlalchemy_would_store() -> None:
    # The store formats `at` itself on SQLite (cheaper than the column's processors); registry queries
    # compare and order these strings, so they must be exactly SQLAlchemy's.
    dialect = sqlite.dialect()
    column = UsageRecord.__table__.c["at"]
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    for unix in (
        0.0,
        1.5,
        1_700_000_000.5,
        1_764_772_216.1234565,
        1_764_772_216.9999996,
        4_102_444_799.000001,
        1_764_772_216.0000005,
        1_764_772_216.4999995,
    ):
        assert _sqlite_instant(unix) == processor(datetime.fromtimestamp(unix, UTC))
    # The whole second's text is cached: instants that go back and forth across seconds, and fractions
    # that round up into the next second.
    generator = random.Random(12)
    for _ in range(20_000):
        unix = generator.choice(
            [generator.uniform(0, 4.1e9), 1_764_772_216 + generator.random() * 3,
             generator.randint(0, 4 * 10**9) + generator.choice([0.9999995, 0.0000005, 0.9999996, 0.5])]
        )  # fmt: skip
        assert _sqlite_instant(unix) == processor(datetime.fromtimestamp(unix, UTC)), unix


def test_a_store_that_cannot_be_used_keeps_its_records_pending(caplog: pytest.LogCaptureFixture) -> None:
    """Rows made early need the store's statement; a store that cannot make it (here a URL no driver
    takes) leaves the records as they are, and its flusher's writes fail and keep them, as any outage."""
    recorder = Recorder(
        DatabaseStore("nodriver://nowhere/usage"),
        flush_interval=0.05,
        batch_size=10,
        max_pending=100,
        early=True,
    )
    try:
        assert recorder.early is None
        assert "cannot make rows ahead" in caplog.text
        for _ in range(5):
            recorder.add(
                Usage(next(recorder.seq), 1.0, "g", "a", "1", None, None, None, 200, 1.0, None, 0, 0, "::1")
            )
        time.sleep(0.2)
        assert recorder.pending() == 5 and recorder.written == 0
        assert "store write failed (5 records kept for retry)" in caplog.text
    finally:
        recorder.close(timeout=5)  # its last write fails too: the records are reported unwritten
    assert "stopped with 5 records unwritten" in caplog.text
