"""Batches a data plane reports (usage records, accesses to personal data) are written idempotently: a
row whose `request_id` is already stored is left alone, so a batch retried after a timeout, or posted
by both a gateway and its replay, is counted once.

`idempotent_insert` is the statement (also compiled once by the gateway's flusher,
plugins/usage_metering/backends/database.py); `insert_new` runs it from a session. Core, not the ORM's
bulk path: several times faster per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.orm import Session

__all__ = ["idempotent_insert", "insert_new"]


def idempotent_insert(table: Table, dialect: str) -> Insert:
    """The insert into `table` on `dialect` that skips a row whose `request_id` is already stored."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["request_id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["request_id"])
    return insert(table)


def insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Inserts the validated `rows`, skipping those already stored; returns how many were inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    statement = idempotent_insert(table, dialect)
    if dialect in ("postgresql", "sqlite"):
        return len(session.execute(statement.returning(table.c.id), rows).all())
    ids = [r["request_id"] for r in rows]  # other databases: skip what exists (not race-free)
    stored = set(session.scalars(select(table.c.request_id).where(table.c.request_id.in_(ids))))
    fresh = list({r["request_id"]: r for r in rows if r["request_id"] not in stored}.values())
    if fresh:
        session.execute(statement, fresh)
    return len(fresh)
