"""Admin routes: usage analytics from the rollups, as JSON or CSV, and upstream health with uptime.

    GET /admin/analytics/usage              rows grouped by the asked dimensions, with percentiles
    GET /admin/analytics/export             the same rows as CSV (reporting, cost sharing)
    GET /admin/analytics/top-applications   the applications with the most calls
    GET /admin/health                       each service's upstream now, and each API's daily uptime

Every role may read; an agency admin sees only its agencies' APIs (asking for another agency is 403,
not an empty answer, so a typo is not mistaken for silence). The dashboard's data endpoints
(dashboard/data.py) call the same functions, so both always show the same figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agora.csv_export import csv_text
from agora.errors import Forbidden, InvalidInput
from registry.admin.context import context, principal
from registry.analytics import queries
from registry.analytics.uptime import current_health, daily_uptime
from registry.models import GRANULARITIES, Agency, utcnow
from registry.services.tokens import Principal
from registry.unit_of_work import read

__all__ = ["DEFAULT_SPAN", "UsageQuery", "agency_scope", "parse_query", "routes"]

DEFAULT_SPAN = {"minute": timedelta(hours=1), "hour": timedelta(days=1), "day": timedelta(days=30)}
MAX_SPAN = {"minute": timedelta(days=2), "hour": timedelta(days=93), "day": timedelta(days=3660)}
UsageQuery = tuple[str, datetime, datetime, list[str], queries.Scope]


def agency_scope(session: Session, who: Principal) -> frozenset[str] | None:
    if who.agency_ids is None:
        return None
    return frozenset(session.scalars(select(Agency.slug).where(Agency.id.in_(who.agency_ids))))


def _instant(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time, not {raw!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_query(params: Any, agencies: frozenset[str] | None, default_group: str) -> UsageQuery:
    """granularity, from, to, group_by and the filters; checked against the caller's agencies."""
    granularity = params.get("granularity", "minute")
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
    end = _instant(params.get("to"), "to") or utcnow()
    start = _instant(params.get("from"), "from") or end - DEFAULT_SPAN[granularity]
    if end - start > MAX_SPAN[granularity]:
        raise InvalidInput(f"at most {MAX_SPAN[granularity].days} days of {granularity} rows per query")
    group_by = [g for g in params.get("group_by", default_group).split(",") if g]
    agency = params.get("agency") or None
    if agency is not None and agencies is not None and agency not in agencies:
        raise Forbidden(f"this token may not read the analytics of agency {agency!r}")
    scope = queries.Scope(
        agencies=agencies,
        agency=agency,
        api=params.get("api") or None,
        version=params.get("version") or None,
        application=params.get("application") or None,
    )
    return granularity, start, end, group_by, scope


def _usage(request: Request, default_group: str) -> tuple[UsageQuery, list[dict[str, Any]]]:
    who = principal(request)
    with read(context(request).sessions) as session:
        query = parse_query(request.query_params, agency_scope(session, who), default_group)
        granularity, start, end, group_by, scope = query
        rows = queries.usage(
            session, granularity=granularity, start=start, end=end, group_by=group_by, scope=scope
        )
    return query, rows


def get_usage(request: Request) -> JSONResponse:
    (granularity, start, end, group_by, _), rows = _usage(request, "bucket")
    return JSONResponse(
        {"granularity": granularity, "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
         "rows": rows}
    )  # fmt: skip


def export_usage(request: Request) -> Response:
    (granularity, start, _, group_by, _), rows = _usage(request, "bucket,agency,api,version,application")
    measures = [k for k in queries.figures(queries.Sums(), 0) if k not in group_by]
    name = f"agora-usage-{granularity}-{start:%Y%m%dT%H%M}.csv"
    return Response(
        csv_text([*group_by, *measures], rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def get_top_applications(request: Request) -> JSONResponse:
    who = principal(request)
    raw_limit = request.query_params.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise InvalidInput(f"limit must be an integer from 1 to 100, not {raw_limit!r}")
    with read(context(request).sessions) as session:
        granularity, start, end, _, scope = parse_query(request.query_params, agency_scope(session, who), "")
        rows = queries.top_applications(
            session, granularity=granularity, start=start, end=end, scope=scope, limit=int(raw_limit)
        )
    return JSONResponse({"from": start.isoformat(), "to": end.isoformat(), "rows": rows})


def health_view(session: Session, agencies: frozenset[str] | None, days: int = 7) -> dict[str, Any]:
    today = utcnow().date()
    uptime = daily_uptime(session, start=today - timedelta(days=days - 1), end=today + timedelta(days=1),
                          agencies=agencies)  # fmt: skip
    return {
        "services": current_health(session, agencies=agencies),
        "uptime": [
            {"day": day, "agency": agency, "api": api, "uptime_percent": value}
            for (day, agency, api), value in sorted(uptime.items())
        ],
    }


def get_health(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        return JSONResponse(health_view(session, agency_scope(session, who)))


routes = [
    Route("/admin/analytics/usage", get_usage, methods=["GET"]),
    Route("/admin/analytics/export", export_usage, methods=["GET"]),
    Route("/admin/analytics/top-applications", get_top_applications, methods=["GET"]),
    Route("/admin/health", get_health, methods=["GET"]),
]
