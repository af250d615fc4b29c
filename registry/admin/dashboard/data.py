"""`GET /admin/ui/data/overview?window=1h`: everything the overview page shows, in one JSON document.

The figures come from the same functions as the admin API (registry/analytics, registry/admin/
analytics.py), scoped the same way, so the dashboard and `/admin/analytics/*` never disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora.errors import InvalidInput
from registry.admin.analytics import agency_scope, health_view
from registry.admin.context import context
from registry.admin.dashboard.auth import ui_principal
from registry.admin.views import audit_view
from registry.analytics import queries
from registry.analytics.buckets import STEP, floor
from registry.models import Agency, utcnow
from registry.services import audit
from registry.unit_of_work import read

__all__ = ["WINDOWS", "overview_data", "routes"]

# window -> (span, rollup granularity): minutes for the last hour, hours for a day, days for a month
WINDOWS = {
    "15m": (timedelta(minutes=15), "minute"),
    "1h": (timedelta(hours=1), "minute"),
    "24h": (timedelta(hours=24), "hour"),
    "30d": (timedelta(days=30), "day"),
}
_NO_STORE = {"Cache-Control": "no-store"}


def _every_bucket(rows: list[dict[str, Any]], start: datetime, end: datetime, granularity: str) -> list[Any]:
    """The series with a zero row for each bucket without calls, so charts show time evenly."""
    found = {row["bucket"]: row for row in rows}
    empty = queries.figures(queries.Sums(), 0)
    out, bucket = [], start
    while bucket < end:
        key = bucket.isoformat()
        out.append(found.get(key) or {"bucket": key, **empty})
        bucket += STEP[granularity]
    return out


def overview_data(session: Session, agencies: frozenset[str] | None, window: str) -> dict[str, Any]:
    if window not in WINDOWS:
        raise InvalidInput(f"window must be one of {', '.join(WINDOWS)}, not {window!r}")
    span, granularity = WINDOWS[window]
    end = utcnow()
    start = floor(end - span, granularity)
    scope = queries.Scope(agencies=agencies)
    common: dict[str, Any] = {"granularity": granularity, "start": start, "end": end, "scope": scope}
    agency_ids = None
    if agencies is not None:
        agency_ids = set(session.scalars(select(Agency.id).where(Agency.slug.in_(sorted(agencies)))))
    return {
        "window": window,
        "granularity": granularity,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": (queries.usage(session, **common) or [queries.figures(queries.Sums(), 0)])[0],
        "apis": queries.usage(session, group_by=["agency", "api"], **common),
        "series": _every_bucket(
            queries.usage(session, group_by=["bucket"], **common), start, end, granularity
        ),
        "series_by_api": queries.usage(session, group_by=["bucket", "agency", "api"], **common),
        "top_applications": queries.top_applications(session, limit=10, **common),
        "health": health_view(session, agencies),
        "audit": [audit_view(e) for e in audit.list_events(session, agency_ids=agency_ids, limit=10)],
    }


def overview(request: Request) -> JSONResponse:
    who = ui_principal(request)
    if who is None:
        return JSONResponse({"detail": "signed out"}, status_code=401, headers=_NO_STORE)
    with read(context(request).sessions) as session:
        body = overview_data(session, agency_scope(session, who), request.query_params.get("window", "1h"))
    return JSONResponse(body, headers=_NO_STORE)


routes = [Route("/admin/ui/data/overview", overview, methods=["GET"])]
