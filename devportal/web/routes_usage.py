"""Usage: calls per application, API and day, as a chart (Chart.js) and the same figures as a table.
`/account/api/usage` gives them as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devportal.web.accounts import require_developer
from devportal.web.context import context
from devportal.web.templating import render
from registry.services import self_service, usage_stats
from registry.unit_of_work import read

__all__ = ["routes"]

DAYS = 30


def _rows(request: Request) -> tuple[Any, list[dict[str, Any]], dict[str, str]]:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        apps = self_service.own_applications(session, developer)
        names = {a.id: a.name for a in apps}
        rows = usage_stats.application_usage(session, list(names), days=DAYS)
    return developer, [{**asdict(r), "application": names.get(r.key, r.key)} for r in rows], names


def usage_page(request: Request) -> Response:
    developer, rows, _ = _rows(request)
    return render(request, "usage.html", user=developer, rows=rows, days=DAYS)


def usage_json(request: Request) -> Response:
    _, rows, _ = _rows(request)
    return JSONResponse({"days": DAYS, "rows": rows})


routes = [
    Route("/account/usage", usage_page, methods=["GET"]),
    Route("/account/api/usage", usage_json, methods=["GET"]),
]
