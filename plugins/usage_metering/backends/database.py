"""The `database` backend: batch inserts into `usage_records` (idempotent on `request_id`), from the
recorder's flusher thread, the only user of the engine, created lazily (by the first `encode` or
`write`). The table is a `RowTable` (usage's by default; personal-data-log writes
`personal_data_accesses` the same way).

The flusher shares the worker's GIL with the event loop, so every microsecond it spends per record is
taken from requests. The insert is therefore the registry's own statement (`usage_insert`: the same
columns, the same conflict rule) compiled once for the engine's dialect and handed to the
driver as one statement of many rows, with each column's bind processor applied as SQLAlchemy would apply
them, without its per-row machinery on every batch (38 -> 10 us a record on SQLite, docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Engine, Insert, Table, event

from registry.db import make_engine
from registry.models import UsageRecord
from registry.services.usage import USAGE_COLUMNS, usage_insert

__all__ = ["USAGE_TABLE", "DatabaseStore", "RowTable"]

_Processor = Callable[[Any], Any]


def _relaxed_sync(dbapi_connection: Any, _record: Any) -> None:
    # WAL with synchronous=NORMAL: a commit no longer waits for the disk, and a power cut can lose the
    # last commits but never corrupts the file. Metering already accepts losing one flush interval to a
    # crash (recorder.py); the registry's own connections keep SQLite's default.
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    # A statement of many rows inside a transaction keeps a statement journal (to undo that statement
    # alone); on disk, that was a temporary file created, written and deleted for every statement (strace
    # under the bench: about one write syscall for every two requests). In memory it is a few pages.
    dbapi_connection.execute("PRAGMA temp_store=MEMORY")


# x 14 columns (usage; 17 for personal data): at most 850 parameters, under SQLite's 32,766 and
# PostgreSQL's 65,535. Small enough that each statement is a short burst: between two of them the flusher
# must take the GIL back, so the event loop runs at least every 50 rows rather than once per batch
# (full chain's p99/p50 at -c32 about 3.4x with 500-row statements, 2.9x with 100; with rows made early
# and the driver's cursor, 2.9x with 100 and 2.8x with 50 in two alternated runs, 2-3% less CPU).
_ROWS_PER_STATEMENT = 50
_NAMED = re.compile(r"%\((\w+)\)s")  # psycopg's named placeholder, as SQLAlchemy compiles it


def _single_row(sql: str, positional_order: Sequence[str] | None) -> tuple[str, str, str, tuple[str, ...]]:
    """(head, VALUES group with positional placeholders, tail, the columns' order in the group)."""
    head, _, rest = sql.partition(" VALUES ")
    depth = 0
    for index, char in enumerate(rest):  # the group's own closing parenthesis ("%(name)s" has others)
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            group, tail = rest[: index + 1], rest[index + 1 :]
            break
    else:
        raise ValueError(f"no VALUES group in {sql!r}")
    names = _NAMED.findall(group)
    if names:  # pyformat (psycopg): "%(request_id)s" -> "%s", the values passed by position
        return head, _NAMED.sub("%s", group), tail, tuple(names)
    assert positional_order is not None
    return head, group, tail, tuple(positional_order)


# The text of the last whole second met: a batch's records fall within a few seconds of each other.
_last_second: tuple[int, str] = (-1, "")


def _sqlite_instant(unix: float) -> str:
    """SQLAlchemy's SQLite DATETIME text ("2026-12-03 15:30:16.123456", UTC): the same string as the
    column's bind processor (a test compares the two) at a fifth of its cost. The whole second's text
    is made once per second; the microseconds are rounded as `datetime.fromtimestamp` rounds them (the
    fraction times 1e6, half to even, 1,000,000 carried into the second)."""
    fraction, whole = math.modf(unix)
    micro = round(fraction * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        second += 1
        micro -= 1_000_000
    global _last_second
    cached = _last_second  # one pair, replaced whole: flusher threads may share it
    if cached[0] != second:
        cached = _last_second = (second, datetime.fromtimestamp(second, UTC).isoformat(" ")[:19])
    return f"{cached[1]}.{micro:06d}"


def _instant(dialect: str, processor: _Processor | None) -> _Processor:
    """A record's `at` (Unix seconds) to what the driver takes for the column."""
    if dialect == "sqlite":
        return _sqlite_instant
    if processor is None:
        return lambda unix: datetime.fromtimestamp(unix, UTC)
    return lambda unix: processor(datetime.fromtimestamp(unix, UTC))


@dataclass(frozen=True, slots=True)
class RowTable:
    """What a store writes: the table, the columns a row sets (its `at` in Unix seconds) and the
    registry's own insert statement for a dialect (idempotent on `request_id`)."""

    table: Table
    columns: tuple[str, ...]
    insert: Callable[[str], Insert]


USAGE_TABLE = RowTable(cast(Table, UsageRecord.__table__), USAGE_COLUMNS, usage_insert)


class DatabaseStore:
    def __init__(self, url: str, rows: RowTable = USAGE_TABLE) -> None:
        self.url, self.rows = url, rows
        self._engine: Engine | None = None
        self._head = self._group = self._tail = ""
        self._values: Callable[[dict[str, Any]], tuple[Any, ...]] = tuple
        # (position, conversion): a record's Unix time to the driver's value, other columns' bind processors
        self._converted: tuple[tuple[int, _Processor], ...] = ()

    def _prepare(self) -> Engine:
        # One connection is all a flusher thread ever uses.
        engine = make_engine(self.url, pool_size=1, max_overflow=0)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _relaxed_sync)
        dialect = engine.dialect
        rows = self.rows
        compiled = rows.insert(dialect.name).compile(dialect=dialect, column_keys=list(rows.columns))
        positional = compiled.positiontup if compiled.positional else None
        self._head, self._group, self._tail, order = _single_row(compiled.string, positional)
        columns = rows.table.c
        bind = [columns[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order]
        processors: list[_Processor | None] = [
            _instant(dialect.name, processor) if name == "at" else processor
            for name, processor in zip(order, bind, strict=True)
        ]
        self._values = operator.itemgetter(*order)  # a row's values in the statement's order, in C
        self._converted = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        self._engine = engine
        return engine

    def prepare(self) -> None:
        if self._engine is None:
            self._prepare()

    def encode(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """A row's parameters in the statement's order, each converted for the driver. The recorder calls
        it on the event loop as a record is added (no I/O: the engine is created, not connected)."""
        if self._engine is None:
            self._prepare()
        params = list(self._values(row))
        for index, process in self._converted:
            params[index] = process(params[index])
        return tuple(params)  # of scalars: the garbage collector stops tracking it

    @lru_cache(maxsize=8)  # noqa: B019  (one store per process and backend: the cache dies with it)
    def _statement(self, rows: int) -> str:
        return f"{self._head} VALUES {', '.join([self._group] * rows)}{self._tail}"

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.write_encoded([self.encode(row) for row in rows])

    def write_encoded(self, encoded: Sequence[tuple[Any, ...]]) -> None:
        if not encoded:
            return
        engine = self._engine or self._prepare()
        # One statement of many rows, not an executemany: both drivers release the GIL around every row
        # of an executemany, and a thread asking it back from a busy event loop waits a switch interval
        # (5 ms) each time. On a saturated worker the flusher then wrote about 200 rows a second and
        # dropped records past max_pending (tests/plugins/usage_metering/test_database.py).
        with engine.begin() as connection:
            # The driver's own cursor, in SQLAlchemy's transaction: its per-statement work (an execution
            # context, events) held the GIL as long as the driver's binding of the rows did.
            cursor = connection.connection.cursor()
            try:
                for start in range(0, len(encoded), _ROWS_PER_STATEMENT):
                    chunk = encoded[start : start + _ROWS_PER_STATEMENT]
                    cursor.execute(self._statement(len(chunk)), tuple(itertools.chain.from_iterable(chunk)))
            finally:
                cursor.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
