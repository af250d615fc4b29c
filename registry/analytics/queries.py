"""Reading the rollups: usage grouped by any of the rollup's dimensions over a time range, with
percentiles merged from the rows' histograms (histogram.py), and the top applications.

`Scope.agencies` limits every query to those agencies (an agency admin's); None means every agency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import InvalidInput
from registry.analytics import histogram
from registry.analytics.buckets import Sums
from registry.models import GRANULARITIES, Application, UsageRollup

__all__ = ["DIMENSIONS", "Scope", "Sums", "figures", "top_applications", "usage"]

# Query dimension -> the rollup column it reads.
DIMENSIONS = {
    "bucket": "bucket",
    "agency": "agency",
    "api": "api",
    "version": "version",
    "operation": "operation_id",
    "application": "application_id",
    "status_class": "status_class",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    agencies: frozenset[str] | None = None  # None: every agency
    agency: str | None = None
    api: str | None = None
    version: str | None = None
    application: str | None = None


def _rows(session: Session, granularity: str, start: datetime, end: datetime, scope: Scope) -> Any:
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
    if end <= start:
        raise InvalidInput("the end of the range must be after its start")
    query = select(UsageRollup).where(
        UsageRollup.granularity == granularity, UsageRollup.bucket >= start, UsageRollup.bucket < end
    )
    if scope.agencies is not None:
        query = query.where(UsageRollup.agency.in_(sorted(scope.agencies)))
    for column, value in (
        (UsageRollup.agency, scope.agency),
        (UsageRollup.api, scope.api),
        (UsageRollup.version, scope.version),
        (UsageRollup.application_id, scope.application),
    ):
        if value is not None:
            query = query.where(column == value)
    return session.scalars(query)


def figures(total: Sums, errors: int) -> dict[str, Any]:
    """The measures every answer carries, from merged sums."""
    hist, ceiling = total.latency_hist, total.latency_max_ms
    calls = total.calls
    return {
        "calls": calls,
        "errors": errors,
        "error_rate": round(errors / calls, 4) if calls else 0.0,
        "rate_limited": total.rate_limited,
        "auth_failed": total.auth_failed,
        "latency_mean_ms": round(total.latency_sum_ms / calls, 3) if calls else None,
        "latency_p50_ms": histogram.percentile(hist, 0.50, ceiling=ceiling),
        "latency_p95_ms": histogram.percentile(hist, 0.95, ceiling=ceiling),
        "latency_p99_ms": histogram.percentile(hist, 0.99, ceiling=ceiling),
        "latency_max_ms": round(ceiling, 3) if calls else None,
        "upstream_mean_ms": round(total.upstream_sum_ms / total.upstream_calls, 3)
        if total.upstream_calls
        else None,
        "bytes_in": total.bytes_in,
        "bytes_out": total.bytes_out,
    }


def _label(value: Any) -> Any:
    # In UTC whatever the database session's time zone, so buckets compare as strings.
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def usage(
    session: Session,
    *,
    granularity: str,
    start: datetime,
    end: datetime,
    group_by: Sequence[str] = (),
    scope: Scope = Scope(),
) -> list[dict[str, Any]]:
    """One entry per distinct value of the `group_by` dimensions (in that order), sorted by them.
    `errors` counts 5xx answers: what the platform or the upstream got wrong, not the caller."""
    unknown = [d for d in group_by if d not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"cannot group by {unknown[0]!r}; use {', '.join(DIMENSIONS)}")
    columns = [DIMENSIONS[d] for d in group_by]
    groups: dict[tuple[Any, ...], tuple[Sums, list[int]]] = {}
    for row in _rows(session, granularity, start, end, scope):
        key = tuple(getattr(row, c) for c in columns)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = (Sums(), [0])
        entry[0].add_row(row)
        if row.status_class == 5:
            entry[1][0] += row.calls
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        total, errors = groups[key]
        labels = {d: _label(v) for d, v in zip(group_by, key, strict=True)}
        out.append({**labels, **figures(total, errors[0])})
    return out


def top_applications(
    session: Session,
    *,
    granularity: str,
    start: datetime,
    end: datetime,
    scope: Scope = Scope(),
    limit: int = 10,
) -> list[dict[str, Any]]:
    """The applications with the most calls, with their names; anonymous calls (open APIs) left out."""
    rows = [r for r in usage(session, granularity=granularity, start=start, end=end, group_by=["application"],
                             scope=scope) if r["application"]]  # fmt: skip
    rows.sort(key=lambda r: (-r["calls"], r["application"]))
    rows = rows[:limit]
    ids = [r["application"] for r in rows]
    names: dict[str, str] = {}
    if ids:
        query = select(Application.id, Application.name).where(Application.id.in_(ids))
        names = {app_id: name for app_id, name in session.execute(query)}
    return [{**r, "name": names.get(r["application"], r["application"])} for r in rows]
