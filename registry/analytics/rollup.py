"""The rollup job: raw `usage_records` -> minute rows -> hour rows -> day rows (`usage_rollups`).

A bucket is always rebuilt whole (its rows deleted and written again from its sources), never patched,
so running the job twice, or over the same records again, gives the same rows. Which buckets to rebuild:
- the minutes of every record whose id is past the last one folded in (`rollup_state`): that catches
  records that arrive late, however late, as long as the raw record is kept;
- the minutes of records from the last `settle` seconds: PostgreSQL hands out ids before commit, so a
  batch may become visible after one with higher ids was folded in; it is picked up by the next run;
- then the hours of the rebuilt minutes (from minute rows) and the days of those hours (from hour rows),
  except hours whose minute rows are past their retention (retention.py): those stay as they are.

Runs are serialized by locking the state row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite serializes
writers anyway), so the admin's scheduler and `agora analytics rollup` may overlap safely.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from registry.analytics.buckets import STEP, Sums, floor, status_class
from registry.analytics.retention import Retention
from registry.models import RollupState, UsageRecord, UsageRollup, utcnow

__all__ = ["RollupResult", "rollup"]

log = logging.getLogger("agora.analytics")
STATE = "usage"


@dataclass(frozen=True, slots=True)
class RollupResult:
    records: int  # new raw records folded in
    minutes: int  # buckets rebuilt
    hours: int
    days: int
    last_record_id: int


def _state(session: Session) -> RollupState:
    state = session.get(RollupState, STATE, with_for_update=True)
    if state is None:
        state = RollupState(name=STATE, last_record_id=0, ran_at=None)
        session.add(state)
        session.flush()
    return state


def _ranges(buckets: Iterable[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Sorted buckets -> contiguous [start, end) ranges, so each is one query."""
    out: list[tuple[datetime, datetime]] = []
    for bucket in sorted(set(buckets)):
        if out and out[-1][1] == bucket:
            out[-1] = (out[-1][0], bucket + step)
        else:
            out.append((bucket, bucket + step))
    return out


def _write(session: Session, granularity: str, start: datetime, end: datetime, sums: dict[Any, Sums]) -> None:
    session.execute(
        delete(UsageRollup).where(
            UsageRollup.granularity == granularity, UsageRollup.bucket >= start, UsageRollup.bucket < end
        )
    )
    rows = [
        {
            "granularity": granularity,
            "bucket": bucket,
            "agency": key[0],
            "api": key[1],
            "version": key[2],
            "operation_id": key[3],
            "application_id": key[4],
            "status_class": key[5],
            **total.columns(),
        }
        for (bucket, key), total in sums.items()
    ]
    if rows:
        session.execute(insert(UsageRollup), rows)


def _minutes(session: Session, start: datetime, end: datetime) -> None:
    query = select(
        UsageRecord.at, UsageRecord.agency, UsageRecord.api, UsageRecord.version, UsageRecord.operation_id,
        UsageRecord.application_id, UsageRecord.status, UsageRecord.latency_ms,
        UsageRecord.upstream_latency_ms, UsageRecord.bytes_in, UsageRecord.bytes_out,
    ).where(UsageRecord.at >= start, UsageRecord.at < end)  # fmt: skip
    sums: dict[Any, Sums] = {}
    for at, agency, api, version, op, app, status, latency, upstream, b_in, b_out in session.execute(query):
        key = (floor(at, "minute"), (agency, api, version, op or "", app or "", status_class(status)))
        total = sums.get(key)
        if total is None:
            total = sums[key] = Sums()
        total.add_record(status, latency, upstream, b_in, b_out)
    _write(session, "minute", start, end, sums)


def _coarser(session: Session, source: str, target: str, start: datetime, end: datetime) -> None:
    query = select(UsageRollup).where(
        UsageRollup.granularity == source, UsageRollup.bucket >= start, UsageRollup.bucket < end
    )
    sums: dict[Any, Sums] = {}
    for row in session.scalars(query):
        key = (
            floor(row.bucket, target),
            (row.agency, row.api, row.version, row.operation_id, row.application_id, row.status_class),
        )
        total = sums.get(key)
        if total is None:
            total = sums[key] = Sums()
        total.add_row(row)
    _write(session, target, start, end, sums)


def rollup(
    session: Session, *, now: datetime | None = None, settle: float = 15.0, chunk: int = 50_000
) -> RollupResult:
    """One run. `chunk` bounds the new records read per run, so a large backlog is folded in over several
    runs instead of one long transaction."""
    now = now or utcnow()
    state = _state(session)
    new = session.execute(
        select(UsageRecord.id, UsageRecord.at)
        .where(UsageRecord.id > state.last_record_id)
        .order_by(UsageRecord.id)
        .limit(chunk)
    ).all()
    recent = session.scalars(
        select(UsageRecord.at).distinct().where(UsageRecord.at >= now - timedelta(seconds=settle))
    ).all()
    minutes = {floor(at, "minute") for _, at in new} | {floor(at, "minute") for at in recent}
    for start, end in _ranges(minutes, STEP["minute"]):
        _minutes(session, start, end)
    # An hour whose minute rows are past their retention would be rebuilt from a part of them only.
    horizon = now - timedelta(days=Retention().minute_days) + STEP["hour"]
    hours = {floor(m, "hour") for m in minutes if m >= horizon}
    for start, end in _ranges(hours, STEP["hour"]):
        _coarser(session, "minute", "hour", start, end)
    days = {floor(h, "day") for h in hours}
    for start, end in _ranges(days, STEP["day"]):
        _coarser(session, "hour", "day", start, end)
    if new:
        state.last_record_id = new[-1][0]
    state.ran_at = now
    if new:
        log.info(
            "rollup: %d records, %d minutes, %d hours, %d days", len(new), len(minutes), len(hours), len(days)
        )
    return RollupResult(len(new), len(minutes), len(hours), len(days), state.last_record_id)
