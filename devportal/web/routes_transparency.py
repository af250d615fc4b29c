"""Public transparency ("open by default"): each API's daily calls, server errors and uptime, as a page
and as open-data files (CSV and JSON, CC0), and an uptime badge per API for its portal page.

No sign-in, and nothing personal: the figures are sums per API and day (registry/analytics/uptime.py
`daily_figures`), never per application, key or address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agora.csv_export import csv_text
from agora.errors import InvalidInput
from devportal.web.badge import uptime_badge
from devportal.web.context import context
from devportal.web.templating import render
from registry.analytics.uptime import daily_figures, daily_uptime
from registry.models import utcnow
from registry.unit_of_work import read

__all__ = ["FIELDS", "routes"]

FIELDS = ["day", "agency", "api", "calls", "server_errors", "uptime_percent"]
LICENSE = "CC0-1.0"
_PUBLIC_CACHE = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise InvalidInput(f"days must be an integer from 1 to 366, not {raw!r}")
    return int(raw)


def _figures(request: Request, days: int) -> list[dict[str, Any]]:
    with read(context(request).sessions) as session:
        return daily_figures(session, days=days)


def page(request: Request) -> Response:
    rows = _figures(request, 30)
    return render(request, "transparency.html", rows=list(reversed(rows)), days=30)


def daily_json(request: Request) -> Response:
    days = _days(request)
    body = {
        "license": LICENSE,
        "generated_at": utcnow().isoformat(),
        "days": days,
        "rows": _figures(request, days),
    }
    return JSONResponse(body, headers=_PUBLIC_CACHE)


def daily_csv(request: Request) -> Response:
    body = csv_text(FIELDS, _figures(request, _days(request)))
    headers = {**_PUBLIC_CACHE, "Content-Disposition": 'attachment; filename="agora-daily-usage.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


def badge(request: Request) -> Response:
    agency, api = request.path_params["agency"], request.path_params["api"]
    today = utcnow().date()
    with read(context(request).sessions) as session:
        per_day = daily_uptime(session, start=today - timedelta(days=29), end=today + timedelta(days=1),
                               agencies=frozenset({agency}))  # fmt: skip
    values = [v for (_, a, p), v in per_day.items() if (a, p) == (agency, api)]
    percent = sum(values) / len(values) if values else None  # mean of the days that have samples
    return Response(
        uptime_badge(percent), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=60"}
    )


routes = [
    Route("/transparency/", page, methods=["GET"]),
    Route("/transparency/daily.json", daily_json, methods=["GET"]),
    Route("/transparency/daily.csv", daily_csv, methods=["GET"]),
    Route("/status/{agency}/{api}/uptime.svg", badge, methods=["GET"]),
]
