"""The retention policy: raw records and health samples are kept `AGORA_USAGE_RETENTION_DAYS` (90),
minute rollups 14 days, hour rollups 400 days, day rollups for ever (they hold no personal data:
no client address, only application ids, and they are what cost sharing between agencies is based on).

Raw records are the only place client addresses (truncated) live, so their retention is the one the
privacy notice names. The rollup job rebuilds an hour from its minute rows, so a record arriving more
than 14 days late is kept raw but no longer changes the hour and day rows (rollup.py skips nothing else).

Accesses to personal data (issue 16) each carry their own `retention_days`, set by the gateway from the
legal basis of the caller's grant (the spec's `retention-days`, 5 years by default): each row goes once
it is older than that, whatever the usage retention.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agora.errors import InvalidInput
from registry.models import HealthSample, PersonalDataAccess, UsageRecord, UsageRollup, utcnow

__all__ = ["RETENTION_ENV", "PruneResult", "Retention", "prune", "prune_personal_data"]

RETENTION_ENV = "AGORA_USAGE_RETENTION_DAYS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    raw_days: int = 90
    minute_days: int = 14
    hour_days: int = 400

    def __post_init__(self) -> None:
        if min(self.raw_days, self.minute_days, self.hour_days) < 1:
            raise InvalidInput("retention periods are at least 1 day")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Retention:
        env = os.environ if env is None else env
        raw = env.get(RETENTION_ENV, "90")
        if not raw.isdigit():
            raise InvalidInput(f"{RETENTION_ENV} must be a number of days, not {raw!r}")
        return cls(raw_days=int(raw))


@dataclass(frozen=True, slots=True)
class PruneResult:
    records: int
    health_samples: int
    minute_rows: int
    hour_rows: int
    personal_data_accesses: int


def prune_personal_data(session: Session, now: datetime) -> int:
    """Deletes the accesses older than their own retention. One statement per distinct retention (a
    platform has a handful: one per legal basis), each a range on `at` the database can do at once."""
    deleted = 0
    periods = session.scalars(select(PersonalDataAccess.retention_days).distinct()).all()
    for days in periods:
        statement = delete(PersonalDataAccess).where(
            PersonalDataAccess.retention_days == days, PersonalDataAccess.at < now - timedelta(days=days)
        )
        deleted += int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    return deleted


def _rows(session: Session, granularity: str, before: datetime) -> int:
    statement = delete(UsageRollup).where(UsageRollup.granularity == granularity, UsageRollup.bucket < before)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def prune(session: Session, retention: Retention, *, now: datetime | None = None) -> PruneResult:
    now = now or utcnow()
    raw_cut = now - timedelta(days=retention.raw_days)
    records = session.execute(delete(UsageRecord).where(UsageRecord.at < raw_cut))
    samples = session.execute(delete(HealthSample).where(HealthSample.minute < raw_cut))
    return PruneResult(
        records=int(records.rowcount),  # type: ignore[attr-defined]
        health_samples=int(samples.rowcount),  # type: ignore[attr-defined]
        minute_rows=_rows(session, "minute", now - timedelta(days=retention.minute_days)),
        hour_rows=_rows(session, "hour", now - timedelta(days=retention.hour_days)),
        personal_data_accesses=prune_personal_data(session, now),
    )
